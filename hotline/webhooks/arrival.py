"""The arrival call's webhook: the resident's key (1: the technician is here, 2: nobody came) is stored.

The call itself (dispatch/arrival_calls.py) asks the question inside a one-key Gather that posts here; silence
never reaches us (the call hangs up and the next try is the job's). A key other than 1 or 2 asks once more.
"""
from __future__ import annotations

import logging

from flask import Blueprint, request

from dispatch.arrival_calls import CONFIRM, DISPUTE, WAIT_SECONDS, record_answer
from dispatch.texts import render
from hotline import db
from hotline.webhooks.calls import language, public_url, settings, small_int, twiml
from hotline.webhooks.cases import commit_and_schedule
from hotline.webhooks.receipts import twilio_webhook
from hotline.webhooks.twilio_inbound import key_press
from ivr_flows import twiml as tw
from ivr_flows.prompts import text
from models import Visit, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("arrival", __name__, url_prefix="/twilio/voice")


def _goodbye(lang: str, key: str = "arrival_goodbye"):
    return tw.speak(lang, [text(lang, key)], hangup=True)


def _ask_again(lang: str, visit_id: int, attempt: int | None):
    """"That key is not valid", the question once more (twice, slowly); a second wrong key ends the call."""
    url = public_url("arrival.answer", visit=visit_id, **({"try": attempt} if attempt else {}), again=1)
    question = render(lang, "arrival_call")
    return tw.ask_key(lang, ([text(lang, "invalid"), question], [question]), url, WAIT_SECONDS,
                      text(lang, "arrival_goodbye"))


@bp.post("/arrival")
@twilio_webhook
def answer():
    """The key pressed on an arrival call: 1 verifies the visit, 2 disputes it (staff alerted), others re-ask once."""
    session = db.session()
    lang = language()
    visit_id = small_int(request.args.get("visit"))
    visit = session.get(Visit, visit_id) if visit_id is not None else None
    if visit is None or visit.verify_attempts == 0:
        # Not a visit we called: say goodbye and change nothing.
        log.warning("arrival webhook for visit %s, which was never called", visit_id)
        return twiml(_goodbye(lang))
    digits = (key_press().digits or "").strip()
    if digits not in (CONFIRM, DISPUTE):
        if request.args.get("again") or not digits:
            return twiml(_goodbye(lang))
        return twiml(_ask_again(lang, visit.id, small_int(request.args.get("try"))))
    follow = record_answer(session, visit, digits, settings(), utcnow())
    commit_and_schedule(follow)
    return twiml(_goodbye(lang, "arrival_thanks" if digits == CONFIRM else "arrival_thanks_disputed"))
