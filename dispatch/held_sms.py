"""SMS held by the budget (dispatch/budget.py), sent when the number's budget allows: alerts merged into one SMS.

Nothing held is dropped. When the budget frees a place for a number, the oldest SMS held for it decides: a
child-line alert takes every alert held for the number with it, as one SMS listing the case codes (each
held row then says `merged` and links to that SMS's row), or goes as it is when it is the only one; any other
SMS goes as it is. What is still held waits for the next place (deferred.BUDGET_FLUSH, and the reconciler).
Calls held by the call budget share the job kind and are placed by dispatch/held_calls.py.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, Message
from models.phone import mask

from . import deferred
from .budget import HELD, mergeable, next_allowed, parse_budget
from .deferred import Work
from .outbox import queue_message
from .settings import DispatchSettings
from .texts import render

log = logging.getLogger(__name__)
MERGED = "merged"
# Codes listed in a merged SMS (a template parameter of Alibaba's is short); the count says how many in all.
MAX_CODES = 5


def flush_when_allowed(session: Session, message: Message, settings: DispatchSettings, now: datetime) -> Work:
    """The flush of the number of a row just held: when its budget allows one more SMS."""
    at = next_allowed(session, message.to_phone, now, parse_budget(settings.sms_budget), message.id)
    return [deferred.budget_flush(message.id, at or now)]


def flush_held(session: Session, message_id: int, settings: DispatchSettings, now: datetime) -> Work:
    """Send what the budget held for the number of row `message_id`, if it allows now; idempotent (caller commits)."""
    row = session.get(Message, message_id)
    if row is None:
        return []
    phone, windows = row.to_phone, parse_budget(settings.sms_budget)
    held = list(session.scalars(select(Message).where(Message.to_phone == phone, Message.channel == "sms",
                                                      Message.status == HELD)
                                .order_by(Message.id).with_for_update()))
    if not held:
        return []
    at = next_allowed(session, phone, now, windows)
    if at is not None and at > now:
        return [deferred.budget_flush(held[0].id, at)]
    first = held[0]
    group = [m for m in held if mergeable(m)] if mergeable(first) else [first]
    if len(group) == 1:
        first.status = "queued"  # the send decides again: the budget allows it now
        follow = deferred.sends([first.id])
    else:
        merged = _merge(session, group, settings)
        follow = deferred.sends([merged.id])
    rest = [m for m in held if m not in group]
    if rest:
        later = next_allowed(session, phone, now, windows, more=1) if windows else None
        follow.append(deferred.budget_flush(rest[0].id, later or now))
    return follow


def _merge(session: Session, group: list[Message], settings: DispatchSettings) -> Message:
    """One SMS for the alerts in `group` (all to one number), each row marked merged into it."""
    case_ids = list(dict.fromkeys(m.case_id for m in group))
    rows = session.execute(select(Case.id, Case.code).where(Case.id.in_(case_ids)))
    codes = {case_id: code for case_id, code in rows}
    listed = [codes[i] for i in case_ids if i in codes]
    shown = "、".join(listed[:MAX_CODES]) + ("…" if len(listed) > MAX_CODES else "")
    body = render(settings.ivr_language, "alerts_merged", count=len(group), codes=shown)
    merged = queue_message(session, f"merged:{group[0].id}", group[0].to_phone, body)
    for message in group:
        message.status, message.merged_into_id = MERGED, merged.id
    log.info("%d alerts to %s merged into one SMS (%s)", len(group), mask(group[0].to_phone), merged.key)
    return merged


def overdue_flushes(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: a flush for every number with SMS held whose budget allows one now."""
    windows = parse_budget(settings.sms_budget)
    oldest: dict[str, int] = {}
    for message_id, phone in session.execute(select(Message.id, Message.to_phone)
                                             .where(Message.status == HELD, Message.channel == "sms")
                                             .order_by(Message.id)):
        oldest.setdefault(phone, message_id)
    return [deferred.budget_flush(message_id) for phone, message_id in oldest.items()
            if next_allowed(session, phone, now, windows) is None]
