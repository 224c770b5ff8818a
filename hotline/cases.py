"""The child-protection line's cases: opened at a call's first webhook, updated at every step, never lost.

The operator webhooks call these hooks for every line; they act only on child-line calls.
"""
from __future__ import annotations

import logging

from flask import Blueprint, request
from sqlalchemy.exc import IntegrityError

from dispatch.case_alerts import acknowledge, acknowledged_by_name, start_alerts
from dispatch.deferred import Work
from dispatch.jobs import schedule
from dispatch.texts import render
from ivr_flows import twiml as tw
from models import Case, CallLog, Officer, case_by_call, case_by_code, case_event, new_case_code, utcnow
from models.phone import mask

from . import db
from .calls import settings, small_int, twiml
from .twilio_inbound import key_press
from .webhooks import twilio_webhook

log = logging.getLogger(__name__)
bp = Blueprint("cases", __name__, url_prefix="/twilio/voice")


def open_case(row: CallLog) -> Case:
    """The call's case, created and committed before the first TwiML answer; a retried webhook finds it."""
    session = db.session()
    case = case_by_call(session, row.call_sid)
    if case is not None:
        return case
    for _ in range(5):
        case = Case(code=new_case_code(session), call_sid=row.call_sid, caller=row.from_phone,
                    status="ringing", created_at=row.started_at)
        session.add(case)
        case_event(session, case, "call", "incoming call")
        try:
            session.commit()
            log.info("case %s opened for a call from %s", case.code, mask(row.from_phone))
            return case
        except IntegrityError:  # the same first webhook twice at once, or a code clash: look again
            session.rollback()
            case = case_by_call(session, row.call_sid)
            if case is not None:
                return case
    raise RuntimeError("could not open a case")


def _child_case(row: CallLog) -> Case | None:
    return case_by_call(db.session(), row.call_sid) if row.line == "child" else None


def _tier_event_once(case: Case, kind: str, tier: int, rest: str) -> None:
    """The case's `kind` event for tier `tier`, unless it has one: a replayed webhook (a new idempotency
    token, or its receipt purged) repeats the same content, and must not repeat the timeline."""
    label = f"tier {tier + 1}:"
    if not any(e.kind == kind and e.detail.startswith(label) for e in case.events):
        case_event(db.session(), case, kind, f"{label} {rest}")


def on_ring(row: CallLog, tier: int, officers: list[Officer]) -> None:
    """A tier starts ringing, once per case and tier (caller commits)."""
    case = _child_case(row)
    if case is not None:
        _tier_event_once(case, "ring", tier, ", ".join(o.name for o in officers))


def on_tier_unanswered(row: CallLog, tier: int, dial_status: str) -> None:
    """Nobody in a tier pressed 1 (voicemail, silence, refusal, no answer); once per case and tier (caller commits)."""
    case = _child_case(row)
    if case is not None:
        _tier_event_once(case, "no-answer", tier, f"DialCallStatus={dial_status or '-'}")


def on_answered(row: CallLog, officer: Officer) -> None:
    """An officer pressed 1 on the screening prompt (caller commits)."""
    case = _child_case(row)
    if case is not None and case.status == "ringing":
        case.status, case.answered_at, case.answered_by_id = "answered", utcnow(), officer.id
        case_event(db.session(), case, "answered", officer.name)


def on_message(row: CallLog, recording_url: str) -> Work:
    """The caller left a message: the case waits for acknowledgement and the alerts start (caller commits)."""
    case = _child_case(row)
    if case is None or case.status in ("answered", "acknowledged", "closed"):
        return []
    if recording_url and not case.recording_url:  # the first one is kept: a replay cannot replace it
        case.recording_url = recording_url
    if case.status != "voicemail":
        case.status = "voicemail"
        case_event(db.session(), case, "voicemail", "message recorded")
    return start_alerts(db.session(), case, settings(), utcnow())


def on_missed(row: CallLog) -> Work:
    """The caller hung up before anyone answered (status callback or Dial action) (caller commits).

    A status callback can be the first we hear of a call (its voice webhook failed): every call leaves a case.
    """
    case = _child_case(row)
    if case is None and row.line == "child":
        case = open_case(row)
    if case is None or case.status != "ringing":
        return []
    case.status = "missed"
    case_event(db.session(), case, "missed", "caller hung up before an officer answered")
    return start_alerts(db.session(), case, settings(), utcnow())


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
