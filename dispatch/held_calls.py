"""Calls held by the call budget (dispatch/call_budget.py), placed when the number's budget allows, if still wanted.

A held call may wait an hour or a day, and what it was for may be settled meanwhile. Before a held call is
placed, `unwanted()` asks: a case alert or police-report call for a case acknowledged, closed or reported, an
arrival call whose visit is answered or whose try a later try replaced, a satisfaction call already rated, any
order's call once the order is cancelled — such a call is not placed: status `cancelled`, `error` the reason
(CANCELLED_PREFIX + a key the console shows in words). Calls to supervisors for a child-line case that is still
unacknowledged are never cancelled: several held for the same case and number go out as ONE call (the others
`merged` into it), and meanwhile the case's SMS rounds go on (dispatch/case_alerts.py does not wait on calls).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CASE_UNACKNOWLEDGED, Case, Message, Order, OrderStatus, Verification, Visit
from models.phone import mask

from . import deferred
from .budget import HELD
from .call_budget import CHANNEL, call_windows, next_call_at
from .deferred import Work
from .police_alerts import police_pending
from .settings import DispatchSettings

log = logging.getLogger(__name__)
CANCELLED = "cancelled"
CANCELLED_PREFIX = "not placed: "
MERGED = "merged"
# The reasons a held call is not placed (keys of the console's call_budget texts, why_<reason>).
CASE_DONE, POLICE_DONE, ORDER_CANCELLED = "case_done", "police_done", "order_cancelled"
VISIT_ANSWERED, TRY_SUPERSEDED, RATED = "visit_answered", "try_superseded", "rated"
# Calls about one case that are the same call whichever round queued it (merged when held together).
CASE_CALL_PREFIXES = ("case-call:", "police-call:")


def _case_call(message: Message) -> str | None:
    """The prefix of a child-line call about one case, None for any other call."""
    key = message.key or ""
    return next((p for p in CASE_CALL_PREFIXES if key.startswith(p)), None) if message.case_id else None


def unwanted(session: Session, message: Message) -> str | None:
    """Why a held call should no longer be placed (a reason key), None while it is still wanted."""
    key = message.key or ""
    if message.case_id is not None:
        case = session.get(Case, message.case_id)
        if case is None:
            return CASE_DONE
        if key.startswith("case-call:") and case.status not in CASE_UNACKNOWLEDGED:
            return CASE_DONE
        if key.startswith("police-call:") and not police_pending(case):
            return POLICE_DONE
        return None
    order = session.get(Order, message.order_id) if message.order_id is not None else None
    if order is None:
        return None
    if order.status == OrderStatus.CANCELLED:
        return ORDER_CANCELLED
    if key.startswith("arrival:"):
        visit_id, attempt = (int(part) for part in key.split(":")[1:3])
        visit = session.get(Visit, visit_id)
        if visit is None or visit.verification != Verification.PENDING:
            return VISIT_ANSWERED
        if visit.verify_attempts != attempt:
            return TRY_SUPERSEDED
    if key.startswith("satisfaction:") and order.rating is not None:
        return RATED
    return None


def call_flush_when_allowed(session: Session, message: Message, settings: DispatchSettings, now: datetime) -> Work:
    """The flush of the number of a call just held: when its budget allows one more call."""
    at = next_call_at(session, message.to_phone, now, call_windows(settings), message.id)
    return [deferred.budget_flush(message.id, at or now)]


def flush_held_calls(session: Session, message_id: int, settings: DispatchSettings, now: datetime) -> Work:
    """Place the oldest call held for the number of row `message_id` that is still wanted, if the budget allows
    now (the others still held wait for the next place); idempotent (caller commits)."""
    row = session.get(Message, message_id)
    if row is None:
        return []
    phone, windows = row.to_phone, call_windows(settings)
    held = []
    for call in session.scalars(select(Message).where(Message.to_phone == phone, Message.channel == CHANNEL,
                                                      Message.status == HELD)
                                .order_by(Message.id).with_for_update()):
        reason = unwanted(session, call)
        if reason is None:
            held.append(call)
        else:
            call.status, call.error, call.claimed_at = CANCELLED, CANCELLED_PREFIX + reason, None
            log.info("held call %s to %s not placed: %s", call.key, mask(phone), reason)
    if not held:
        return []
    at = next_call_at(session, phone, now, windows)
    if at is not None and at > now:
        return [deferred.budget_flush(held[0].id, at)]
    first = held[0]
    prefix = _case_call(first)
    same = [c for c in held[1:] if prefix and _case_call(c) == prefix and c.case_id == first.case_id]
    for call in same:  # the same words to the same person: one call says it
        call.status, call.merged_into_id = MERGED, first.id
    # The send decides again (the budget allows it now); a provider refusal's mark goes with this try.
    first.status, first.error = "queued", None
    follow = deferred.sends([first.id])
    rest = [c for c in held[1:] if c not in same]
    if rest:
        later = next_call_at(session, phone, now, windows, first.id, more=1)
        follow.append(deferred.budget_flush(rest[0].id, later or now))
    log.info("held call %s to %s placed now (%d merged into it, %d still held)",
             first.key, mask(phone), len(same), len(rest))
    return follow


def overdue_call_flushes(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: a flush for every number with calls held whose budget allows one now."""
    windows = call_windows(settings)
    oldest: dict[str, int] = {}
    for message_id, phone in session.execute(select(Message.id, Message.to_phone).where(
            Message.status == HELD, Message.channel == CHANNEL).order_by(Message.id)):
        oldest.setdefault(phone, message_id)
    return [deferred.budget_flush(message_id) for phone, message_id in oldest.items()
            if next_call_at(session, phone, now, windows) is None]
