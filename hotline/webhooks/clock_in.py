"""The technicians' landline clock-in: after the unannounced key 8 of the elderly menu (from a resident's
registered phone with an order being worked), the order's six digits clock in, or, the second time, out.

A wrong code is asked for once more; silence or a second wrong code goes back to the elderly menu, so an
older caller who pressed 8 by mistake is never stuck here.
"""
from __future__ import annotations

import logging

from flask import Blueprint, request

from dispatch.clock_in import CODE_DIGITS, clock
from hotline import db
from hotline.webhooks.calls import caller_number, language, public_url, settings, twiml
from hotline.webhooks.cases import commit_and_schedule
from hotline.webhooks.receipts import twilio_webhook
from hotline.webhooks.twilio_inbound import key_press
from ivr_flows import engine, twiml as tw
from ivr_flows.prompts import spoken_digits, text
from models import utcnow

log = logging.getLogger(__name__)
bp = Blueprint("clock_in", __name__, url_prefix="/twilio/voice")
GATHER_SECONDS = 15  # six digits, typed on a phone the technician does not know


def ask_code(lang: str, again: bool = False):
    """Ask for the order's six digits (once more after a wrong code); silence goes back to the menu."""
    url = public_url("clock_in.code", **({"again": 1} if again else {}))
    return tw.ask_digits(lang, [text(lang, "clock_in_wrong" if again else "clock_in_code")], CODE_DIGITS, url,
                         GATHER_SECONDS, _menu())


def _menu() -> str:
    """The elderly menu from its top, as a fresh turn."""
    flow = engine.load_flow(engine.ELDERLY_FLOW, settings().child_line_key)
    return public_url("voice.menu", **engine.State(node=flow.start).as_params(), path="")


@bp.post("/clock-in")
@twilio_webhook
def code():
    """The keyed order code: clock in or out on it; a wrong one is asked for once more, then the menu."""
    lang = language()
    digits = (key_press().digits or "").strip()
    done = clock(db.session(), caller_number(), digits, settings(), utcnow())
    if not done.kind:
        db.session().rollback()
        if request.args.get("again") or not digits:
            return twiml(tw.speak(lang, [text(lang, "invalid")], then_redirect=_menu()))
        return twiml(ask_code(lang, again=True))
    commit_and_schedule(done.work)
    order_digits = spoken_digits(done.order.code) if done.order else ""
    if done.kind == "in":
        return twiml(tw.speak(lang, [text(lang, "clock_in_done", digits=order_digits)], hangup=True))
    return twiml(tw.speak(lang, [text(lang, "clock_out_done", digits=order_digits, minutes=done.minutes or 0)],
                          hangup=True))
