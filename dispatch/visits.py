"""An order's visit (issue 15): opened at the technician's arrival, closed at completion with its length.

Whoever reports the arrival (an SMS, the console, a clock-in from the resident's registered phone) and the
completion (an SMS, the console, a clock-out), the same two functions record it, so every source is verified
and measured alike. A landline clock-in verifies itself (the caller ID proves the place); any other arrival
asks the resident by an automated call (dispatch/arrival_calls.py).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Order, Verification, Visit, add_event, price_in_force

from . import deferred
from .deferred import Work
from .settings import DispatchSettings

log = logging.getLogger(__name__)
LANDLINE = "landline"


def visit_of(session: Session, order_id: int) -> Visit | None:
    """The order's visit, if one was opened."""
    return session.scalar(select(Visit).where(Visit.order_id == order_id))


def open_visit(session: Session, order: Order, source: str, now: datetime) -> Work:
    """Open the order's visit at its arrival; returns the arrival call's first try, none for a landline
    clock-in (verified at once) or a resident with no phone (unverified, with the reason). Idempotent: an
    order whose visit is open already gets nothing new (caller commits)."""
    if visit_of(session, order.id) is not None:
        return []
    visit = Visit(order_id=order.id, arrived_at=order.arrived_at or now, arrival_source=source, created_at=now)
    session.add(visit)
    add_event(session, order, "visit_opened", source)
    if source == LANDLINE:
        visit.verification, visit.verified_at = Verification.VERIFIED.value, now
        add_event(session, order, "visit_verified", "clock-in from the resident's registered phone")
        return []
    if not order.callback_phone:
        visit.verification = Verification.UNVERIFIED.value
        add_event(session, order, "visit_unverified", "no phone to call the resident on")
        return []
    visit.next_verify_at = now
    session.flush()  # the visit's id, for its job
    return [deferred.verify_arrival(visit.id, 1, None)]


def close_visit(session: Session, order: Order, source: str, settings: DispatchSettings, now: datetime) -> Work:
    """At completion: the visit's length in whole minutes and the category's minimum from the price list in
    force that local day for the technician's provider; shorter is flagged `too_short` with an event.

    A completion with no arrival reported opens the visit now (its length 0, and its arrival call asks the
    resident all the same). Idempotent: a closed visit is left as it is (caller commits)."""
    visit = visit_of(session, order.id)
    follow: Work = []
    if visit is None:
        follow = open_visit(session, order, source, now)
        visit = visit_of(session, order.id)
    if visit is None or visit.completed_at is not None:
        return follow
    completed = order.completed_at or now
    visit.completed_at, visit.completion_source = completed, source
    visit.minutes = max(0, int((completed - visit.arrived_at).total_seconds() // 60))
    provider_id = order.technician.provider_id if order.technician else None
    rule = price_in_force(session, order.category, provider_id, completed.astimezone(settings.tz).date())
    visit.min_minutes = rule.min_minutes if rule is not None else None
    add_event(session, order, "visit_length", f"{visit.minutes} min")
    if visit.min_minutes is not None and visit.minutes < visit.min_minutes:
        visit.too_short = True
        add_event(session, order, "visit_too_short", f"{visit.minutes} < {visit.min_minutes} min")
        log.warning("order %s: visit of %d min, shorter than the %d min minimum", order.code, visit.minutes,
                    visit.min_minutes)
    return follow
