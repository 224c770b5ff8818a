"""The child-protection line's web side: a supervisor's acknowledgement by key press, and committing a webhook's
case work before its follow-up is queued. The case transitions themselves are dispatch.casework's."""
from __future__ import annotations

from flask import Blueprint, request

from dispatch.case_alerts import acknowledge, acknowledged_by_name
from dispatch.deferred import Work
from dispatch.jobs import schedule
from dispatch.texts import render
from hotline import db
from hotline.webhooks.calls import settings, small_int, twiml
from hotline.webhooks.receipts import twilio_webhook
from hotline.webhooks.twilio_inbound import key_press
from ivr_flows import twiml as tw
from models import Officer, case_by_code, utcnow

bp = Blueprint("cases", __name__, url_prefix="/twilio/voice")


@bp.post("/ack")
@twilio_webhook
def acknowledge_call():
    """A supervisor's alert call: 1 acknowledges the case named in the (signed) URL."""
    session = db.session()
    case = case_by_code(session, request.args.get("case", ""))
    officer_id = request.args.get("officer", "")
    officer = session.get(Officer, small_int(officer_id)) if small_int(officer_id) is not None else None
    if key_press().digits != "1" or case is None or officer is None:
        return twiml(tw.hangup())
    first = acknowledge(session, case, officer, "voice", utcnow())
    session.commit()
    lang = settings().ivr_language
    if first:
        return twiml(tw.speak(lang, [render(lang, "case_call_ok")], hangup=True))
    by = acknowledged_by_name(case)
    return twiml(tw.speak(lang, [render(lang, "case_ack_already", code=" ".join(case.code), name=by)], hangup=True))


def commit_and_schedule(follow: Work) -> None:
    """Commit the request's changes, then hand all their deferred work to the queue."""
    db.session().commit()
    if follow:
        schedule(db.queue(), follow)
