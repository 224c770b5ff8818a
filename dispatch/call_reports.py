"""Call reports: a provider's record of an automated call once it ended (Alibaba's VoiceReport), which settles the
call's outbox row and hands the key pressed to the call's answer target (dispatch/call_answers.py)."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from models import Message
from models.phone import mask

from .call_answers import answer
from .deferred import Work
from .providers import CallReport, script_of
from .settings import DispatchSettings

log = logging.getLogger(__name__)
# Rows a report may settle: placed; or unsure, after a request that got no answer (the report says it went out).
SETTLEABLE = ("sent", "unknown", "failed")


def record_call_report(session: Session, report: CallReport, settings: DispatchSettings,
                       now: datetime) -> tuple[bool, Work]:
    """Mark the call's outbox row delivered (answered) or failed, and act on its key (caller commits).

    Returns (settled, follow-up work). Not settled (False): the row is being placed right now and its call id not
    yet stored; the provider should push the report again later. A report for no call row of ours, or for another
    number than the row's, is settled with nothing done. Idempotent by call id: a replayed report changes nothing.
    """
    message = session.get(Message, report.message_id) if report.message_id else None
    if message is None or message.direction != "outbound" or message.channel != "call":
        log.info("call report for no outbox call (%s) ignored", report.call_id[-8:])
        return True, []
    if message.to_phone != report.to:
        log.warning("call report for call %s names %s, not its number %s: ignored", message.id, mask(report.to),
                    mask(message.to_phone))
        return True, []
    if message.status == "sending":
        return False, []
    if message.provider_sid == report.call_id and message.status in ("delivered", "failed") or \
            message.status not in SETTLEABLE:
        return True, []  # reported already (a replay), or not a row a report settles
    status = "delivered" if report.answered else "failed"
    won = cast(CursorResult, session.execute(  # a DML statement's result is a CursorResult
        update(Message).where(Message.id == message.id, Message.status == message.status)
        .values(status=status, provider_sid=report.call_id[:64], sent_at=message.sent_at or now,
                error=None if report.answered else f"report: {report.outcome}"[:300])
        .execution_options(synchronize_session=False)
    )).rowcount == 1
    if not won:  # another push of the same report got there first
        return True, []
    session.refresh(message)
    log.info("call %s to %s %s (%s)", message.key, mask(message.to_phone), status, report.outcome or "-")
    script = script_of(message.body)
    target = script.question.answer if script.question is not None else script.then
    if target is None:
        return True, []
    digits = report.digits[:1]
    if script.question is not None and digits not in script.question.keys:
        digits = ""  # a key the question did not offer counts as none
    return True, answer(session, target, digits, settings, now)
