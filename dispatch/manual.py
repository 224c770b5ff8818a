"""Staff actions on orders from the console: create one for a caller, reassign, cancel, record a follow-up.

Each action checks the order's state first and raises Refused (changing nothing) when it does not fit;
otherwise it changes the order, records an event by the acting staff user and returns the follow-up
work (SMS to send, the arrival clock) for the caller to schedule after committing.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    CATEGORY_CODES,
    ORDER_OPEN,
    ORDER_REASSIGNABLE,
    OfferStatus,
    Order,
    OrderStatus,
    Technician,
    add_event,
    new_code,
    resident_by_phone,
    set_status,
)
from models.phone import InvalidPhone, is_mobile, mask, national, normalise

from . import deferred
from .assignments import notify_resident
from .deferred import Work
from .event_details import detail as event_detail
from .offers import offer_text
from .outbox import queue_message
from .settings import DispatchSettings
from .sla import start_clock
from .texts import render
from .voice_messages import spoken_notification

log = logging.getLogger(__name__)
MAX_DETAIL = 200   # Order.detail's column size
MAX_NOTE = 500


class Refused(ValueError):
    """An action that does not fit the input or the order's state; `reason` names why, `values` fill the text."""

    def __init__(self, reason: str, **values):
        super().__init__(reason)
        self.reason = reason
        self.values = values


def create_order(session: Session, raw_phone: str, category: str, detail: str, actor: str,
                 now: datetime) -> Order:
    """An order for a caller an operator is talking to, made as the IVR makes it (caller commits, then
    enqueues the offer); an unknown or inactive resident's number makes an `unregistered` order."""
    try:
        phone = normalise(raw_phone)
    except InvalidPhone:
        raise Refused("bad_phone") from None
    if category not in CATEGORY_CODES:
        raise Refused("bad_category")
    detail = (detail or "").strip()
    if len(detail) > MAX_DETAIL:
        raise Refused("detail_too_long", limit=MAX_DETAIL)
    resident = resident_by_phone(session, phone)
    for _ in range(5):  # a code clash with another open order is possible but rare: draw again
        order = Order(code=new_code(session), category=category, detail=detail,
                      resident_id=resident.id if resident else None, caller_phone=phone,
                      unregistered=resident is None, created_at=now)
        try:
            with session.begin_nested():
                session.add(order)
                # Before the flush: a new order's first move is from no status (a flushed one is already pending).
                set_status(session, order, OrderStatus.PENDING, actor=actor, detail=event_detail("by_console"))
                session.flush()
        except IntegrityError:
            continue
        log.info("order %s (%s) created by %s for %s", order.code, category, actor, mask(phone))
        return order
    raise RuntimeError("could not allocate an order code")


def _locked_order(session: Session, order_id: int) -> Order:
    # The same row lock as offer_order: an offer job and a staff action never interleave on one order.
    order = session.get(Order, order_id, with_for_update=True)
    if order is None:
        raise Refused("no_order")
    return order


def _supersede_pending(order: Order, keep: Technician | None = None, now: datetime | None = None) -> None:
    for attempt in order.offers:
        if attempt.status != OfferStatus.PENDING:
            continue
        if keep is not None and attempt.technician_id == keep.id:
            attempt.status, attempt.answered_at = OfferStatus.ACCEPTED, now
        else:
            attempt.status = OfferStatus.SUPERSEDED


def reassign(session: Session, order_id: int, technician_id: int | None, actor: str, settings: DispatchSettings,
             now: datetime) -> Work:
    """Give the order to a technician staff have phoned: pending offers superseded, both technicians and the
    resident told, the arrival clock started again from now (caller commits)."""
    order = _locked_order(session, order_id)
    if order.status not in ORDER_REASSIGNABLE:
        raise Refused("not_reassignable", status=order.status)
    tech = session.get(Technician, technician_id) if technician_id else None
    if tech is None or not tech.active:
        raise Refused("bad_technician")
    if order.technician_id == tech.id:
        raise Refused("same_technician", tech=tech.name)
    previous = order.technician
    _supersede_pending(order, keep=tech, now=now)
    order.technician = tech
    if order.status != OrderStatus.ACCEPTED:
        set_status(session, order, OrderStatus.ACCEPTED, actor=actor, detail=tech.name)
    # accepted_at is the current technician's acceptance: the arrival check and the promise run from it.
    order.accepted_at = now
    event = add_event(session, order, "reassigned", f"{previous.name if previous else '-'} -> {tech.name}", actor)
    session.flush()
    lang = settings.ivr_language
    follow = start_clock(order, settings)
    follow.append(deferred.send(queue_message(session, f"assigned:{order.id}:{event.id}", tech.phone,
                                              offer_text(order, lang, "assigned"), order_id=order.id).id))
    if previous is not None:
        follow.append(deferred.send(queue_message(session, f"unassigned:{order.id}:{event.id}", previous.phone,
                                                  render(lang, "unassigned", code=order.code), order_id=order.id).id))
    if order.callback_phone:
        told = (notify_resident(session, order, tech, settings) if previous is None
                else _notify_reassigned(session, order, tech, settings, event.id))
        follow.append(deferred.send(told.id))
    log.info("order %s reassigned by %s to technician %d", order.code, actor, tech.id)
    return follow


def _notify_reassigned(session: Session, order: Order, tech: Technician, settings: DispatchSettings, event_id: int):
    """Tell the resident another technician is coming: an SMS to a mobile, a spoken call to a landline."""
    lang = settings.ivr_language
    phone = cast(str, order.callback_phone)  # a dispatched order has a callback phone (is_mobile(None) raised)
    name = order.resident.name if order.resident else ""
    key = f"notify:reassigned:{order.id}:{event_id}"
    if is_mobile(phone):
        body = render(lang, "notify_reassigned", name=name, tech=tech.name, phone=national(tech.phone),
                      code=order.code)
        msg = queue_message(session, key, phone, body, order_id=order.id)
    else:
        body = spoken_notification(lang, render(lang, "notify_reassigned_call", name=name, tech=tech.name,
                                                digits=" ".join(order.code),
                                                phone_digits=" ".join(national(tech.phone))))
        msg = queue_message(session, key, phone, body, channel="call", order_id=order.id)
    add_event(session, order, "notify_resident", msg.channel)
    return msg


def cancel(session: Session, order_id: int, reason: str, actor: str, settings: DispatchSettings, now: datetime) -> Work:
    """Cancel an open order with a reason: pending offers superseded, the assigned technician told (caller commits)."""
    order = _locked_order(session, order_id)
    if order.status not in ORDER_OPEN:
        raise Refused("not_cancellable", status=order.status)
    reason = _note(reason)
    _supersede_pending(order)
    set_status(session, order, OrderStatus.CANCELLED, actor=actor, detail=reason)
    follow: Work = []
    if order.technician is not None:
        body = render(settings.ivr_language, "cancelled", code=order.code)
        follow.append(deferred.send(queue_message(session, f"cancelled:{order.id}", order.technician.phone, body,
                                                  order_id=order.id).id))
    log.info("order %s cancelled by %s", order.code, actor)
    return follow


def record_follow_up(session: Session, order_id: int, note: str, actor: str, settings: DispatchSettings,
                     now: datetime) -> Work:
    """Staff followed up an order flagged for it (a poor rating): clear the flag, keep the note (caller commits)."""
    order = _locked_order(session, order_id)
    if not order.needs_follow_up:
        raise Refused("no_follow_up_needed")
    note = _note(note)
    order.needs_follow_up = False
    add_event(session, order, "followed_up", note, actor)
    log.info("order %s followed up by %s", order.code, actor)
    return []


def _note(text: str | None) -> str:
    """A required free-text note (reason, follow-up), trimmed and bounded."""
    text = (text or "").strip()
    if not text:
        raise Refused("note_required")
    if len(text) > MAX_NOTE:
        raise Refused("note_too_long", limit=MAX_NOTE)
    return text
