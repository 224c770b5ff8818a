"""What a technician's reply does to an order: accept (one winner), decline, arrived, done."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from models import (
    OFFER_LOST,
    ORDER_ACCEPTABLE,
    ORDER_TRANSITIONS,
    ORDER_WORKING,
    OfferAttempt,
    OfferStatus,
    Order,
    OrderStatus,
    Technician,
    add_event,
    open_order_by_code,
    set_status,
)
from models.lifecycle import guarded_update
from models.phone import is_mobile, national

from . import deferred
from .deferred import Work
from .offers import decline
from .outbox import queue_message
from .payment_replies import PaidReport
from .payments import record_payment
from .pricing import yuan
from .replies import Reply
from .satisfaction import after_completion
from .settings import DispatchSettings
from .sla import record_promise, start_clock
from .texts import render
from .visits import close_visit, open_visit
from .voice_messages import spoken_notification

log = logging.getLogger(__name__)


def handle_reply(session: Session, tech: Technician, reply: Reply, settings: DispatchSettings,
                 now: datetime) -> tuple[str, Work, Order | None]:
    """Carry out one parsed reply from a registered technician; returns the SMS answer, follow-up work and the
    order the reply was about (None when it named none), so the SMS and its answer are filed under that order."""
    lang = settings.ivr_language
    if reply.intent in ("help", "unknown"):
        return render(lang, "help"), [], None
    if reply.intent == "bad_payment":  # nothing changes: the order is not completed on an unreadable amount
        named = open_order_by_code(session, reply.code) if reply.code else None
        return render(lang, "bad_payment"), [], named if named and named.technician_id == tech.id else None
    orders = _orders_for(session, tech, reply.intent)
    if reply.code is not None:
        order = open_order_by_code(session, reply.code)
        if order is None or order.id not in {o.id for o in _orders_for(session, tech, reply.intent, any_offer=True)}:
            return _why_not(session, tech, reply.code, lang), [], order
    elif len(orders) == 1:
        order = orders[0]
    elif not orders:
        lost = _lost_offer(session, tech) if reply.intent in ("accept", "decline") else None
        return (render(lang, "taken", code=lost.code) if lost else render(lang, "no_order")), [], lost
    else:
        codes = [o.code for o in orders]
        return render(lang, "need_code", codes=",".join(codes), first=codes[0]), [], None
    if reply.intent == "done":
        text, follow = _done(session, tech, order, settings, now, reply.payment)
    else:
        text, follow = _ACTIONS[reply.intent](session, tech, order, settings, now)
    return text, follow, order


def _orders_for(session: Session, tech: Technician, intent: str, any_offer: bool = False) -> list[Order]:
    """Open orders this reply could be about, oldest first."""
    if intent in ("accept", "decline"):
        offered = select(OfferAttempt.order_id).where(OfferAttempt.technician_id == tech.id)
        if not any_offer:
            offered = offered.where(OfferAttempt.status == OfferStatus.PENDING)
        query = select(Order).where(Order.id.in_(offered), Order.status.in_(ORDER_ACCEPTABLE))
    elif intent == "arrived":
        query = select(Order).where(Order.technician_id == tech.id, Order.status == OrderStatus.ACCEPTED)
    else:
        query = select(Order).where(Order.technician_id == tech.id, Order.status.in_(ORDER_WORKING))
    return list(session.scalars(query.order_by(Order.created_at, Order.id)))


def _lost_offer(session: Session, tech: Technician) -> Order | None:
    """The latest order offered to `tech` that another technician has since taken (a late "1" is told so)."""
    return session.scalar(
        select(Order).join(OfferAttempt, OfferAttempt.order_id == Order.id)
        .where(OfferAttempt.technician_id == tech.id, OfferAttempt.status.in_(OFFER_LOST),
               Order.technician_id.is_not(None), Order.technician_id != tech.id,
               Order.status.in_(ORDER_WORKING))
        .order_by(OfferAttempt.id.desc()).limit(1))


def _why_not(session: Session, tech: Technician, code: str, lang: str) -> str:
    order = open_order_by_code(session, code)
    if order is not None and order.technician_id not in (None, tech.id):
        return render(lang, "taken", code=code)
    return render(lang, "too_late", code=code)


def _attempt(session: Session, order: Order, tech: Technician) -> OfferAttempt | None:
    return session.scalar(select(OfferAttempt).where(OfferAttempt.order_id == order.id,
                                                     OfferAttempt.technician_id == tech.id))


def accept(session: Session, tech: Technician, order: Order, settings: DispatchSettings,
           now: datetime) -> tuple[str, Work]:
    """Assign the order to the first technician who accepts; a conditional update makes exactly one winner."""
    lang = settings.ivr_language
    transition = ORDER_TRANSITIONS[OrderStatus.ACCEPTED]
    orders = cast(Table, Order.__table__)
    won = cast(CursorResult, session.execute(  # a DML statement's result is a CursorResult
        guarded_update(orders, transition, order.id, now)
        .where(orders.c.technician_id.is_(None)).values(technician_id=tech.id)
        .execution_options(synchronize_session=False)
    )).rowcount == 1
    if not won:
        return render(lang, "taken", code=order.code), []
    session.refresh(order)
    add_event(session, order, transition.event, tech.name, actor=tech.name)
    for attempt in order.offers:
        if attempt.technician_id == tech.id:
            attempt.status, attempt.answered_at = OfferStatus.ACCEPTED, now
        elif attempt.status == OfferStatus.PENDING:
            attempt.status = OfferStatus.SUPERSEDED
    follow = start_clock(order, settings)
    if order.callback_phone:
        follow.append(deferred.send(notify_resident(session, order, tech, settings).id))
    log.info("order %s accepted", order.code)
    return render(lang, "accepted", code=order.code), follow


def notify_resident(session: Session, order: Order, tech: Technician, settings: DispatchSettings):
    """Tell the resident who is coming: an SMS to a mobile, a spoken call to a landline."""
    lang = settings.ivr_language
    phone = cast(str, order.callback_phone)  # a dispatched order has a callback phone (is_mobile(None) raised)
    name = order.resident.name if order.resident else ""
    if is_mobile(phone):
        body = render(lang, "notify_resident", name=name, tech=tech.name, phone=national(tech.phone), code=order.code)
        msg = queue_message(session, f"notify:accepted:{order.id}", phone, body, order_id=order.id)
    else:
        body = spoken_notification(lang, render(lang, "notify_resident_call", name=name, tech=tech.name,
                                                digits=" ".join(order.code),
                                                phone_digits=" ".join(national(tech.phone))))
        msg = queue_message(session, f"notify:accepted:{order.id}", phone, body, channel="call", order_id=order.id)
    add_event(session, order, "notify_resident", "sms" if msg.channel == "sms" else "call")
    return msg


def _decline(session, tech, order, settings: DispatchSettings, now):
    attempt = _attempt(session, order, tech)
    if attempt is None or attempt.status != OfferStatus.PENDING:
        return render(settings.ivr_language, "declined", code=order.code), []
    follow = decline(session, attempt, settings, now)
    return render(settings.ivr_language, "declined", code=order.code), follow


def _arrived(session, tech, order, settings: DispatchSettings, now):
    if order.technician_id != tech.id or order.status != OrderStatus.ACCEPTED:
        return render(settings.ivr_language, "too_late", code=order.code), []
    set_status(session, order, OrderStatus.ARRIVED, actor=tech.name)
    return render(settings.ivr_language, "arrived", code=order.code), open_visit(session, order, "sms", now)


def _done(session, tech, order, settings: DispatchSettings, now, paid: PaidReport | None = None):
    """Complete the order; with what the resident paid, record it priced by the rules of the day."""
    lang = settings.ivr_language
    if order.technician_id != tech.id or order.status not in ORDER_WORKING:
        return render(lang, "too_late", code=order.code), []
    set_status(session, order, OrderStatus.COMPLETED, actor=tech.name)
    record_promise(order, settings)
    follow = close_visit(session, order, "sms", settings, now) + after_completion(order, settings)
    if paid is None:
        return render(lang, "completed", code=order.code), follow
    session.flush()  # the completion is part of the month the payment is priced in
    record_payment(session, order, paid, "sms", tech.name, settings, now)
    text = render(lang, "completed_paid", code=order.code, method=render(lang, f"pay_{paid.method}"),
                  paid=yuan(paid.paid_fen))
    return text, follow


_ACTIONS = {"accept": accept, "decline": _decline, "arrived": _arrived, "done": _done}
