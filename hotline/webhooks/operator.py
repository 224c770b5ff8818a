"""Reaching a person: ring the on-duty officers tier by tier with screening, else take a message."""
from __future__ import annotations

import logging

from flask import Blueprint, request
from sqlalchemy import update

from dispatch import casework
from dispatch.alerts import callback_alert
from hotline import db
from hotline.webhooks import cases
from hotline.webhooks.calls import current_call_log, language, own_recording_url, public_url, settings, small_int, twiml
from hotline.webhooks.receipts import twilio_webhook
from hotline.webhooks.twilio_inbound import key_press
from ivr_flows import twiml as tw
from ivr_flows.prompts import text
from models import CALL_ENDED, CallLog, Officer, call_by_sid, escalation_chain, utcnow
from models.phone import mask

log = logging.getLogger(__name__)
bp = Blueprint("operator", __name__, url_prefix="/twilio/voice")
# Carrier voicemail picks up after ~25-30 s: a longer ring only lets a mailbox take the call.
MAX_RING_SECONDS = 25


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
    casework.on_ring(db.session(), row, tier, chain[tier])
    db.session().commit()
    log.info("call %s: ringing tier %d (%d officer(s))", row.call_sid[-8:], tier + 1, len(numbers))
    return tw.dial_tier(language(), numbers, public_url("operator.dial_done", tier=tier),
                        timeout=min(settings().dial_timeout_seconds, MAX_RING_SECONDS), before=before)


def child_line_answer(row: CallLog):
    """The child-protection line: the case is committed first, then a calm greeting and the on-duty officers."""
    casework.open_case(db.session(), row)
    db.session().commit()
    nobody = not escalation_chain(db.session(), row.line, row.started_at)
    greeting = text(language(), "child_greeting_nobody" if nobody else "child_greeting")
    return twiml(operator_response(row, 0, before=[greeting]))


def child_key_answer(row: CallLog, path: str):
    """The child-line key pressed on the elderly line's number: the call becomes a child-line call and goes on
    exactly as one dialled directly (its case, the greeting, the tiers with screening, the message)."""
    row.path = path
    casework.enter_child_line(db.session(), row, utcnow())
    return child_line_answer(row)


def _tier_arg() -> int:
    raw = request.args.get("tier", "0")
    return small_int(raw, digits=2) or 0


def caller_gone(row: CallLog):
    """The caller hung up before anyone answered or a message was left: make sure someone calls back."""
    if row.answered_by_id or row.outcome in ("voicemail", "missed"):
        return []
    row.outcome = "missed"
    if row.line == "child":
        return casework.on_missed(db.session(), row, settings(), utcnow())
    return callback_alert(db.session(), row.line, row.call_sid, row.from_phone, row.started_at,
                          settings().ivr_language, "missed")


@bp.post("/operator")
@twilio_webhook
def operator():
    """Ring a tier (the entry point used by redirects)."""
    return twiml(operator_response(current_call_log(), _tier_arg()))


@bp.post("/operator/done")
@twilio_webhook
def dial_done():
    """A tier's Dial ended: an officer who pressed 1 was recorded by screening; else try the next tier.

    DialCallStatus alone is never trusted: a voicemail box that picks up reads as `completed`.
    """
    row = current_call_log()
    if row.answered_by_id:
        row.outcome = "answered"
        db.session().commit()
        return twiml(tw.hangup())
    dial_status = request.form.get("DialCallStatus", "")[:20]
    casework.on_tier_unanswered(db.session(), row, _tier_arg(), dial_status)
    log.info("call %s: tier %d not accepted (DialCallStatus=%s)", row.call_sid[-8:], _tier_arg() + 1, dial_status)
    if request.form.get("CallStatus") in CALL_ENDED:  # the caller hung up while the tier rang
        cases.commit_and_schedule(caller_gone(row))
        return twiml(tw.hangup())
    db.session().commit()
    return twiml(operator_response(row, _tier_arg() + 1))


@bp.post("/screen")
@twilio_webhook
def screen():
    """On the officer's leg before bridging: press 1 to accept."""
    line = "child" if request.args.get("line") == "child" else "elderly"
    answer_url = public_url("operator.screen_answer", officer=request.args.get("officer", ""), line=line)
    return twiml(tw.screening(language(), f"screen_{line}", answer_url))


@bp.post("/screen/answer")
@twilio_webhook
def screen_answer():
    """The officer's key: only 1 connects, and only the first officer to press it is recorded."""
    officer_id = request.args.get("officer", "")
    keys = key_press()
    parent_sid = keys.parent_call_sid
    if keys.digits != "1" or small_int(officer_id) is None or not parent_sid:
        return twiml(tw.hangup())
    session = db.session()
    officer = session.get(Officer, small_int(officer_id))
    if officer is None:
        return twiml(tw.hangup())
    won = session.execute(
        update(CallLog).where(CallLog.call_sid == parent_sid, CallLog.answered_by_id.is_(None))
        .values(answered_by_id=officer.id, outcome="answered")
    ).rowcount == 1
    if won:
        parent = call_by_sid(session, parent_sid)
        if parent is not None:
            casework.on_answered(session, parent, officer, utcnow())
    session.commit()
    if not won:
        return twiml(tw.hangup())
    log.info("call %s answered by officer %d", parent_sid[-8:], officer.id)
    return twiml(tw.speak(language(), [text(language(), "screen_connecting")]))


@bp.post("/message")
@twilio_webhook
def message():
    """The caller left a message: keep it, alert every officer in the chain, thank the caller."""
    row = current_call_log()
    url = own_recording_url(request.form.get("RecordingUrl"))
    if url and not row.recording_url:  # the first message of a call is kept; a replay cannot replace it
        row.recording_url = url
    row.outcome = "voicemail"
    if row.line == "child":
        follow = casework.on_message(db.session(), row, url or "", settings(), utcnow())
    else:
        follow = callback_alert(db.session(), row.line, row.call_sid, row.from_phone, row.started_at,
                                settings().ivr_language, "voicemail")
    cases.commit_and_schedule(follow)
    log.info("call %s: message left by %s", row.call_sid[-8:], mask(row.from_phone))
    return twiml(tw.speak(language(), [text(language(), "message_thanks")], hangup=True))
