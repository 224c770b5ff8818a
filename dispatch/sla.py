"""The arrival clock of the 15-minute service circle: remind the technician and alert staff when it runs out."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Order, OrderStatus, add_event, escalation_chain
from models.phone import national

from . import deferred
from .deferred import Work
from .event_details import detail as event_detail
from .outbox import queue_message
from .settings import DispatchSettings
from .texts import render

log = logging.getLogger(__name__)


def deadline(order: Order, settings: DispatchSettings) -> datetime:
    """When an accepted order must be `arrived`."""
    # Only asked of an accepted order; a None still raises the TypeError it raised before.
    return cast(datetime, order.accepted_at) + timedelta(minutes=settings.sla_arrival_minutes)


def start_clock(order: Order, settings: DispatchSettings) -> Work:
    """Schedule the arrival check of a just-accepted order."""
    return [deferred.arrival_check(order.id, deadline(order, settings))]


def check_arrival(session: Session, order_id: int, settings: DispatchSettings, now: datetime) -> Work:
    """If the order is still not `arrived` at its deadline: mark it breached, remind, alert; idempotent."""
    order = session.get(Order, order_id, with_for_update=True)
    if order is None or order.status != OrderStatus.ACCEPTED or order.sla_breached or order.accepted_at is None:
        return []
    if now < deadline(order, settings):
        return start_clock(order, settings)
    order.sla_breached = True
    minutes = f"{settings.sla_arrival_minutes:g}"
    lang = settings.ivr_language
    tech, resident = order.technician, order.resident
    assert tech is not None  # an accepted order has its technician (None.phone raised AttributeError)
    follow = [deferred.send(queue_message(session, f"sla-reminder:{order.id}", tech.phone,
                                          render(lang, "sla_reminder", code=order.code, minutes=minutes),
                                          order_id=order.id).id)]
    body = render(lang, "sla_alert", code=order.code, minutes=minutes, tech=tech.name,
                  tech_phone=national(tech.phone), name=resident.name if resident else "",
                  phone=national(order.callback_phone))
    for officer in {o.id: o for tier in escalation_chain(session, "elderly", now) for o in tier}.values():
        follow.append(deferred.send(queue_message(session, f"sla-alert:{order.id}:{officer.id}", officer.phone, body,
                                                  order_id=order.id).id))
    add_event(session, order, "sla_breached", event_detail("not_arrived", minutes=minutes))
    log.warning("order %s: technician not arrived %s minutes after accepting", order.code, minutes)
    return follow


def record_promise(order: Order, settings: DispatchSettings) -> None:
    """On completion: whether the technician was at the door within the promised minutes of accepting."""
    if order.accepted_at is None:
        return
    at_door = order.arrived_at or order.completed_at
    order.promise_kept = at_door is not None and at_door <= deadline(order, settings)


def overdue_arrival_checks(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: accepted orders past their arrival deadline and not yet marked breached."""
    return [deferred.arrival_check(order_id, cast(datetime, at)) for order_id, at in session.execute(
        select(Order.id, Order.accepted_at).where(Order.status == OrderStatus.ACCEPTED, Order.sla_breached.is_(False),
                                                  Order.accepted_at.is_not(None)))
        if cast(datetime, at) + timedelta(minutes=settings.sla_arrival_minutes) <= now]  # accepted_at is not None
