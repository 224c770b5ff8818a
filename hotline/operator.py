"""Reaching a person: ring the on-duty officers tier by tier with screening, else take a message."""
from __future__ import annotations

import logging

from flask import Blueprint, request
from sqlalchemy import update

from dispatch.alerts import voicemail_alert
from dispatch.jobs import schedule
from ivr_flows import twiml as tw
from ivr_flows.prompts import text
from models import CallLog, Officer, escalation_chain
from models.phone import mask

from . import db
from .calls import current_call_log, language, public_url, settings, twiml
from .security import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("operator", __name__, url_prefix="/twilio/voice")


def operator_response(row: CallLog, tier: int, before: list[str] = ()):
    """TwiML that rings tier `tier` of the call's chain, or records a message when the chain is exhausted."""
    chain = escalation_chain(db.session(), row.line, row.started_at)
    if tier >= len(chain):
        response = tw.speak(language(), before) if before else None
        message = tw.record_message(language(), public_url("operator.message"))
        if response is None:
            return message
        for verb in message.verbs:
            response.append(verb)
        return response
    numbers = [(o.phone, public_url("operator.screen", officer=o.id, line=row.line)) for o in chain[tier]]
    log.info("call %s: ringing tier %d (%d officer(s))", row.call_sid[-8:], tier + 1, len(numbers))
    return tw.dial_tier(language(), numbers, public_url("operator.dial_done", tier=tier),
                        timeout=settings().dial_timeout_seconds, before=before)


def child_line_answer(row: CallLog):
    """The child-protection line: a calm greeting, then the on-duty officers."""
    return twiml(operator_response(row, 0, before=[text(language(), "child_greeting")]))


def _tier_arg() -> int:
    raw = request.args.get("tier", "0")
    return int(raw) if raw.isdigit() and len(raw) < 3 else 0


@bp.post("/operator")
@twilio_signed
def operator():
    """Ring a tier (the entry point used by redirects)."""
    return twiml(operator_response(current_call_log(), _tier_arg()))


@bp.post("/operator/done")
@twilio_signed
def dial_done():
    """A tier's Dial ended: an officer who pressed 1 was recorded by screening; else try the next tier.

    DialCallStatus alone is never trusted: a voicemail box that picks up reads as `completed`.
    """
    row = current_call_log()
    session = db.session()
    if row.answered_by_id:
        row.outcome = "answered"
        session.commit()
        return twiml(tw.hangup())
    log.info("call %s: tier %d not accepted (DialCallStatus=%s)", row.call_sid[-8:], _tier_arg() + 1,
             request.form.get("DialCallStatus", "")[:20])
    return twiml(operator_response(row, _tier_arg() + 1))


@bp.post("/screen")
@twilio_signed
def screen():
    """On the officer's leg before bridging: press 1 to accept."""
    line = "child" if request.args.get("line") == "child" else "elderly"
    answer_url = public_url("operator.screen_answer", officer=request.args.get("officer", ""), line=line)
    return twiml(tw.screening(language(), f"screen_{line}", answer_url))


@bp.post("/screen/answer")
@twilio_signed
def screen_answer():
    """The officer's key: only 1 connects, and only the first officer to press it is recorded."""
    officer_id = request.args.get("officer", "")
    parent_sid = request.form.get("ParentCallSid", "")
    if request.form.get("Digits") != "1" or not officer_id.isdigit() or not parent_sid:
        return twiml(tw.hangup())
    session = db.session()
    officer = session.get(Officer, int(officer_id))
    if officer is None:
        return twiml(tw.hangup())
    won = session.execute(
        update(CallLog).where(CallLog.call_sid == parent_sid, CallLog.answered_by_id.is_(None))
        .values(answered_by_id=officer.id, outcome="answered")
    ).rowcount == 1
    session.commit()
    if not won:
        return twiml(tw.hangup())
    log.info("call %s answered by officer %d", parent_sid[-8:], officer.id)
    return twiml(tw.speak(language(), [text(language(), "screen_connecting")]))


@bp.post("/message")
@twilio_signed
def message():
    """The caller left a message: keep it, alert every officer in the chain, thank the caller."""
    session = db.session()
    row = current_call_log()
    url = request.form.get("RecordingUrl", "")[:500]
    first_time = row.outcome != "voicemail"
    if url:
        row.recording_url = url
    row.outcome = "voicemail"
    follow = voicemail_alert(session, row.line, row.call_sid, row.from_phone, row.started_at,
                             settings().ivr_language) if first_time else None
    session.commit()
    if follow:
        schedule(db.queue(), follow)
    log.info("call %s: message left by %s", row.call_sid[-8:], mask(row.from_phone))
    return twiml(tw.speak(language(), [text(language(), "message_thanks")], hangup=True))
