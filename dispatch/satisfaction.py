"""The satisfaction callback: some minutes after an order completes, one automated call asks the resident
to rate the service (1 satisfied, 2 so-so, 3 not satisfied); the web app stores the key pressed.

Exactly one call per order: the job stamps `Order.satisfaction_call_at` with a conditional UPDATE and
queues the call under the unique outbox key `satisfaction:<order id>` in the same transaction. Whether a
call is still owed is read from the database alone, so the reconciler recovers a lost job.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from models import Order, OrderStatus, Resident, ResidentPhone, add_event
from models.phone import mask

from . import deferred
from .deferred import Work
from .event_details import detail as event_detail
from .outbox import queue_message
from .providers import CallScript, Target
from .settings import DispatchSettings

log = logging.getLogger(__name__)
# A lost call is recovered for orders created this recently (a range on the (status, created_at) index,
# never a scan of every completed order); older visits are stale and residents would not remember them.
LOOKBACK = timedelta(days=2)
RATINGS = (1, 2, 3)  # satisfied, so-so, not satisfied
NOT_SATISFIED = 3


def owed() -> ColumnElement[bool]:
    """SQL: a completed order whose callback is still to be placed, with a number to ring and a resident
    still on the register (no call to the home of someone who moved away or died)."""
    has_phone = or_(Order.caller_phone.is_not(None),
                    exists().where(ResidentPhone.resident_id == Order.resident_id))
    on_register = or_(Order.resident_id.is_(None),
                      exists().where(Resident.id == Order.resident_id, Resident.active.is_(True)))
    return and_(Order.status == OrderStatus.COMPLETED, Order.satisfaction_call_at.is_(None), has_phone, on_register)


def due_at(order: Order, settings: DispatchSettings) -> datetime:
    """When the order's callback should be placed: SATISFACTION_DELAY_SECONDS after completion, moved out of
    the quiet hours (SATISFACTION_QUIET_HOURS, local time) to their end — nobody old is rung at night."""
    # Only asked of a completed order; a None still raises the TypeError it raised before.
    due = cast(datetime, order.completed_at) + timedelta(seconds=settings.satisfaction_delay_seconds)
    return after_quiet_hours(due, settings.satisfaction_quiet_hours, settings.tz)


def after_quiet_hours(at: datetime, quiet: str, tz) -> datetime:
    """`at`, or the end of the quiet hours ("21-8": 21:00 to 08:00 local) when `at` falls inside them."""
    if not quiet:
        return at
    start, end = (int(h) for h in quiet.split("-"))
    local = at.astimezone(tz)
    hour = local.hour
    inside = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not inside:
        return at
    wake = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return wake.astimezone(at.tzinfo)


def after_completion(order: Order, settings: DispatchSettings) -> Work:
    """The follow-up of a just-completed order: its satisfaction call at the due time (none if nobody to ring)."""
    if order.status != OrderStatus.COMPLETED or order.completed_at is None or not order.callback_phone:
        return []
    return [deferred.satisfaction_call(order.id, due_at(order, settings))]


def call_script(settings: DispatchSettings, order_id: int) -> str:
    """The call's script: hand the answered call to the web app's satisfaction dialogue (its prompts ask)."""
    return CallScript(settings.ivr_language, repeat=0, then=Target("satisfaction", {"order": order_id})).to_body()


def place_call(session: Session, order_id: int, settings: DispatchSettings, now: datetime) -> Work:
    """Queue the order's one satisfaction call once it is due; idempotent (caller commits).

    A re-run, a second completion or a reconcile pass finds the stamp set and queues nothing new; a call
    queued but not yet sent is the outbox's to deliver (its reconcile pass re-sends queued rows).
    """
    order = session.get(Order, order_id, with_for_update=True)
    if order is None or order.status != OrderStatus.COMPLETED or order.completed_at is None:
        return []
    if now < due_at(order, settings):  # ran early (clock skew, a manual burst): come back on time
        return [deferred.satisfaction_call(order.id, due_at(order, settings))]
    won = cast(CursorResult, session.execute(  # a DML statement's result is a CursorResult
        update(Order).where(Order.id == order.id, owed()).values(satisfaction_call_at=now)
        .execution_options(synchronize_session=False)
    )).rowcount == 1
    if not won:  # queued before (the outbox and its reconcile pass see it sent), or no number to ring
        return []
    session.refresh(order)
    # owed() only matches an order with a callback phone.
    message = queue_message(session, f"satisfaction:{order.id}", cast(str, order.callback_phone),
                            call_script(settings, order.id), channel="call", order_id=order.id)
    add_event(session, order, "satisfaction_call", event_detail("satisfaction_queued"))
    log.info("order %s: satisfaction call to %s queued", order.code, mask(order.callback_phone))
    return [deferred.send(message.id)]


def record_rating(session: Session, order: Order, rating: int, now: datetime) -> bool:
    """Store the resident's first rating of a called order (3 flags it for staff follow-up); False when the
    order was rated already or never called (caller commits)."""
    values = {"rating": rating, "rated_at": now}
    if rating == NOT_SATISFIED:
        values["needs_follow_up"] = True
    won = cast(CursorResult, session.execute(  # a DML statement's result is a CursorResult
        update(Order).where(Order.id == order.id, Order.rating.is_(None), Order.satisfaction_call_at.is_not(None))
        .values(**values).execution_options(synchronize_session=False)
    )).rowcount == 1
    if not won:
        return False
    session.refresh(order)
    add_event(session, order, "rating", str(rating), actor="resident")
    if rating == NOT_SATISFIED:
        add_event(session, order, "needs_follow_up", event_detail("rated_3"), actor="resident")
    log.info("order %s rated %d", order.code, rating)
    return True


def overdue_calls(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: completed orders whose satisfaction call is owed and was due before `cutoff`."""
    # Created within LOOKBACK: a range on the (status, created_at) index, never a scan of every completed order.
    delay = timedelta(seconds=settings.satisfaction_delay_seconds)
    return [deferred.satisfaction_call(order_id, cast(datetime, at) + delay) for order_id, at in session.execute(
        select(Order.id, Order.completed_at).where(owed(), Order.created_at >= now - LOOKBACK,
                                                   Order.completed_at <= cutoff - delay))]
