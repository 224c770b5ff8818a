"""Offering an order: to the nearest free skilled technician, then the next, until someone accepts or staff must."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import (
    MAX_OFFERS,
    ORDER_OFFERABLE,
    Message,
    OfferAttempt,
    OfferStatus,
    Order,
    OrderStatus,
    Resident,
    add_event,
    escalation_chain,
    set_status,
)
from models.phone import mask, national

from . import deferred
from .deferred import Work
from .event_details import detail as event_detail
from .matching import candidates
from .offer_rows import write_round
from .outbox import queue_message
from .settings import DispatchSettings
from .texts import category_name, render

log = logging.getLogger(__name__)
EMERGENCY_FANOUT = 3
# One SMS segment: 70 characters when any character needs UCS-2 (Chinese), else 160.
SEGMENT_UCS2, SEGMENT_GSM7 = 70, 160
MIN_ADDRESS, MIN_NAME = 6, 2


def short_address(order: Order, limit: int = 14) -> str:
    """The end of the address that a technician needs (street and building), cut to fit one SMS."""
    address = order.resident.address if order.resident else ""
    return address if len(address) <= limit else address[-limit:]


def offer_text(order: Order, language: str, key: str | None = None) -> str:
    """An order's card SMS (the offer, or text `key`) cut to one segment: address (keeping its end), then name."""
    resident = order.resident
    address, name = short_address(order), resident.name if resident else ""
    key = key or ("offer_emergency" if order.is_emergency else "offer")
    # Formatted once, not on every trial cut below: phonenumbers' parse is the dearest part of a render.
    fixed = {"code": order.code, "category": category_name(language, order.category),
             "phone": national(order.callback_phone)}

    def text() -> str:
        return render(language, key, address=address, name=name, **fixed)

    body = text()
    limit = SEGMENT_UCS2 if any(ord(ch) > 127 for ch in body) else SEGMENT_GSM7
    while len(body) > limit and len(address) > MIN_ADDRESS:
        address = address[1:]
        body = text()
    while len(body) > limit and len(name) > MIN_NAME:
        name = name[:-1]
        body = text()
    return body


def offer_order(session: Session, order_id: int, settings: DispatchSettings, now: datetime) -> Work:
    """Offer the order to the next candidate(s), or escalate; safe to run twice (caller commits)."""
    follow: Work = []
    # The resident (with the phones the offer text needs) and the earlier offers come with the locked row:
    # one round trip instead of three.
    order = session.get(Order, order_id, with_for_update={"of": Order},
                        options=[joinedload(Order.resident).joinedload(Resident.phones), joinedload(Order.offers)])
    if order is None or order.status not in ORDER_OFFERABLE:
        return follow
    pending = [a for a in order.offers if a.status == OfferStatus.PENDING]
    if pending:  # a re-run: make sure what was decided goes out, decide nothing new
        for attempt in pending:
            follow += deferred.sends(_offer_message_ids(session, attempt))
            follow.append(deferred.expire_offer(attempt.id, attempt.expires_at))
        return follow
    if order.resident is None:
        return escalate(session, order, settings, now, event_detail("unregistered"))
    remaining = MAX_OFFERS - len(order.offers)
    wanted = min(EMERGENCY_FANOUT if order.is_emergency else 1, remaining)
    chosen = candidates(session, order, settings.service_radius_km, limit=wanted) if wanted > 0 else []
    if not chosen:
        reason = event_detail("no_candidates") if remaining > 0 else event_detail("offers_unanswered", count=MAX_OFFERS)
        return escalate(session, order, settings, now, reason)
    expires = now + timedelta(seconds=settings.offer_timeout_seconds)
    round_no = 1 + max((a.round for a in order.offers), default=0)
    body = offer_text(order, settings.ivr_language)
    attempts, messages = write_round(session, order, chosen, body, expires, round_no, now)
    follow += deferred.sends(msg.id for msg in messages)
    follow += [deferred.expire_offer(attempt.id, expires) for attempt in attempts]
    log.info("order %s offered to %d technician(s)", order.code, len(chosen))
    return follow


def _offer_message_ids(session: Session, attempt: OfferAttempt) -> list[int]:
    msg = session.scalar(select(Message).where(Message.key == f"offer:{attempt.id}"))
    return [msg.id] if msg is not None and msg.status == "queued" else []


def expire_offer(session: Session, attempt_id: int, settings: DispatchSettings, now: datetime) -> Work:
    """Time out one offer if it is still unanswered, and move the order on; safe to run twice."""
    attempt = session.get(OfferAttempt, attempt_id)
    if attempt is None or attempt.status != OfferStatus.PENDING:
        return []
    if now < attempt.expires_at:  # ran early (clock skew, manual burst): try again at the deadline
        return [deferred.expire_offer(attempt.id, attempt.expires_at)]
    attempt.status, attempt.answered_at = OfferStatus.EXPIRED, now
    add_event(session, attempt.order, "offer_expired", attempt.technician.name)
    return _next_if_idle(session, attempt.order, settings, now)


def offer_failed(session: Session, attempt_id: int, settings: DispatchSettings, now: datetime,
                 over_budget: bool = False) -> Work:
    """The offer SMS could not be delivered (permanent provider error) or was not sent (the technician is over
    the SMS budget, said in the event): mark it failed and move to the next candidate."""
    attempt = session.get(OfferAttempt, attempt_id)
    if attempt is None or attempt.status != OfferStatus.PENDING:
        return []
    attempt.status, attempt.answered_at = OfferStatus.FAILED, now
    name = attempt.technician.name
    add_event(session, attempt.order, "offer_failed",
              render(settings.ivr_language, "offer_skipped_event", name=name) if over_budget else name)
    return _next_if_idle(session, attempt.order, settings, now)


def _next_if_idle(session: Session, order: Order, settings: DispatchSettings, now: datetime) -> Work:
    """Offer to the next candidate when no offer of this order is still waiting for an answer."""
    session.flush()
    if order.status in ORDER_OFFERABLE and not any(a.status == OfferStatus.PENDING for a in order.offers):
        return offer_order(session, order.id, settings, now)
    return []


def decline(session: Session, attempt: OfferAttempt, settings: DispatchSettings, now: datetime) -> Work:
    """A technician said no: record it and move on to the next candidate."""
    attempt.status, attempt.answered_at = OfferStatus.DECLINED, now
    add_event(session, attempt.order, "offer_declined", attempt.technician.name, actor=attempt.technician.name)
    return _next_if_idle(session, attempt.order, settings, now)


def escalate(session: Session, order: Order, settings: DispatchSettings, now: datetime, reason: str) -> Work:
    """Nobody can take the order: mark it escalated and alert the on-duty elderly-line officers."""
    follow: Work = []
    set_status(session, order, OrderStatus.ESCALATED, detail=reason)
    resident = order.resident
    body = render(settings.ivr_language, "escalated", code=order.code,
                  category=category_name(settings.ivr_language, order.category),
                  name=resident.name if resident else "", phone=national(order.callback_phone),
                  address=resident.address if resident else "")
    officers = [o for tier in escalation_chain(session, "elderly", now) for o in tier]
    for officer in officers:
        msg = queue_message(session, f"escalated:{order.id}:{officer.id}", officer.phone, body, order_id=order.id)
        follow.append(deferred.send(msg.id))
    add_event(session, order, "alert", event_detail("officers_alerted", count=len(officers)))
    if not officers:
        log.error("order %s escalated but no officer or supervisor to alert", order.code)
    log.info("order %s escalated (%s); caller %s", order.code, reason, mask(order.callback_phone))
    return follow


def overdue_offers(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: orders still pending (never offered) since before `cutoff`."""
    return [deferred.offer(order_id) for order_id in session.scalars(
        select(Order.id).where(Order.status == OrderStatus.PENDING, Order.created_at <= cutoff))]


def overdue_timeouts(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: offers unanswered past their deadline."""
    return [deferred.expire_offer(attempt_id, at) for attempt_id, at in session.execute(
        select(OfferAttempt.id, OfferAttempt.expires_at)
        .where(OfferAttempt.status == OfferStatus.PENDING, OfferAttempt.expires_at <= now))]
