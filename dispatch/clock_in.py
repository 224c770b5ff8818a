"""Landline clock-in and clock-out (issue 15): the technician calls the hotline from the resident's registered
phone and keys the order's six-digit code; the caller ID proves the place, as telephony EVV does.

No per-technician PIN: the code alone opens nothing. It counts only for an open order assigned to a technician,
of the resident whose registered phone is calling, and the technician learns it by SMS when the order is
assigned. The first such call clocks in (the visit opens verified, no arrival call), the second clocks out
(the order completes and the visit's length is measured); one phone and one code can do nothing else.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import (
    ORDER_WORKING,
    Order,
    OrderStatus,
    ResidentPhone,
    Technician,
    Verification,
    add_event,
    open_order_by_code,
    set_status,
)
from models.phone import mask

from .deferred import Work
from .satisfaction import after_completion
from .settings import DispatchSettings
from .sla import record_promise
from .visits import LANDLINE, close_visit, open_visit, visit_of

log = logging.getLogger(__name__)
CODE_DIGITS = 6


@dataclass(frozen=True)
class Clocked:
    """What a keyed code did: "in", "out", or "" (nothing: not an order of this phone); the visit's minutes."""

    kind: str
    order: Order | None = None
    minutes: int | None = None
    work: Work = field(default_factory=list)


def may_clock_in(session: Session, caller: str | None) -> bool:
    """Whether `caller` is a resident's registered phone with an order assigned to a technician right now
    (only then does the unannounced clock-in key of the menu do anything)."""
    if not caller:
        return False
    return bool(session.scalar(select(exists().where(
        Order.status.in_(ORDER_WORKING), Order.technician_id.is_not(None),
        ResidentPhone.resident_id == Order.resident_id, ResidentPhone.phone == caller))))


def clock(session: Session, caller: str | None, code: str, settings: DispatchSettings, now: datetime) -> Clocked:
    """Clock in or out on the order `code` keyed from `caller`; anything else changes nothing (caller commits)."""
    if not caller or len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        return Clocked("")
    order = open_order_by_code(session, code)
    if (order is None or order.status not in ORDER_WORKING or order.technician_id is None
            or not session.scalar(select(exists().where(ResidentPhone.resident_id == order.resident_id,
                                                        ResidentPhone.phone == caller)))):
        log.info("clock-in from %s with a code of no order of that phone", mask(caller))
        return Clocked("")
    session.refresh(order, with_for_update=True)
    tech = cast(Technician, order.technician)  # technician_id is set
    visit = visit_of(session, order.id)
    if visit is None or visit.arrival_source != LANDLINE:
        return Clocked("in", order, work=_clock_in(session, order, tech, now))
    set_status(session, order, OrderStatus.COMPLETED, actor=tech.name, detail=LANDLINE)
    record_promise(order, settings)
    work = close_visit(session, order, LANDLINE, settings, now) + after_completion(order, settings)
    log.info("order %s: clock-out from the resident's phone", order.code)
    return Clocked("out", order, visit.minutes, work)


def _clock_in(session: Session, order: Order, tech: Technician, now: datetime) -> Work:
    """The clock-in: arrival by landline; an arrival reported by SMS before is verified by it instead."""
    if order.status == OrderStatus.ACCEPTED:
        set_status(session, order, OrderStatus.ARRIVED, actor=tech.name, detail=LANDLINE)
    visit = visit_of(session, order.id)
    log.info("order %s: clock-in from the resident's phone", order.code)
    if visit is None:
        return open_visit(session, order, LANDLINE, now)
    visit.arrival_source = LANDLINE
    if visit.verification == Verification.DISPUTED:  # the resident said nobody came: staff decide, not the phone
        add_event(session, order, "landline_clock_in", "after the resident's dispute", actor=tech.name)
        return []
    visit.verification, visit.verified_at, visit.next_verify_at = Verification.VERIFIED.value, now, None
    add_event(session, order, "visit_verified", "clock-in from the resident's registered phone", actor=tech.name)
    return []
