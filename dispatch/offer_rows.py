"""Writing one round of offers: attempts, timeline and outbox rows in four statements, not the unit of work.

Every order's first offer writes these rows, and through the ORM's unit of work the same four statements
cost more CPU than the whole RQ job around them. They are written as plain statements instead, and the
session is left exactly as a flush would have left it (the order's status and offers, the attempts and
messages as persistent objects), so the rest of the job, or a decision after it in the same session, sees
what the database has.
"""
from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import ORDER_TRANSITIONS, Message, OfferAttempt, OfferStatus, Order, OrderEvent, OrderStatus
from models.lifecycle import as_written, guarded_update

from .matching import Candidate
from .outbox import as_loaded, queue_new

OFFERED = ORDER_TRANSITIONS[OrderStatus.OFFERED]


def write_round(session: Session, order: Order, picks: list[Candidate], body: str, expires: datetime,
                round_no: int, now: datetime) -> tuple[list[OfferAttempt], list[Message]]:
    """Offer `order` to `picks` (caller commits): attempts, their outbox rows, the timeline, the order `offered`.

    The timeline reads as set_status() and add_event() would write it: one "offer" event per technician,
    then the status change (when the order was not offered already).
    """
    session.flush()  # anything the caller changed goes first, as it would in one flush
    conn, sql = session.connection(), _statements()
    rows = [{"order_id": order.id, "technician_id": p.technician.id, "status": OfferStatus.PENDING.value,
             "distance_km": p.distance_km, "sent_at": now, "expires_at": expires, "answered_at": None,
             "round": round_no} for p in picks]
    ids = conn.execute(sql["attempts"], rows).scalars().all()
    attempts = [as_loaded(session, OfferAttempt(id=i, **row)) for i, row in zip(ids, rows)]
    events = [_event(order, now, "offer", f"{p.technician.name} {_km(p.distance_km)}") for p in picks]
    if order.status != OFFERED.to:
        events.append(_event(order, now, OFFERED.event, ""))
        conn.execute(sql["offered"], {"order_id": order.id, "now": now})
        as_written(order, OFFERED, now)
    conn.execute(sql["events"], events)
    messages = queue_new(session, [{"key": f"offer:{a.id}", "to_phone": p.technician.phone, "body": body,
                                    "order_id": order.id} for a, p in zip(attempts, picks)])
    set_committed_value(order, "offers", [*order.offers, *attempts])
    if "events" in order.__dict__:  # a timeline read earlier in this session would miss these rows
        session.expire(order, ["events"])
    return attempts, messages


@cache
def _statements() -> dict:
    """The round's statements, built once per process (on first use): SQLAlchemy skips building and keying them."""
    attempts, orders = cast(Table, OfferAttempt.__table__), cast(Table, Order.__table__)
    return {
        "attempts": insert(attempts).returning(attempts.c.id, sort_by_parameter_order=True),
        # set_status()'s rule, from the same table: the status, and its timestamp unless reached before.
        "offered": guarded_update(orders, OFFERED, bindparam("order_id"),
                                  bindparam("now", type_=orders.c[cast(str, OFFERED.stamp)].type)),
        "events": insert(cast(Table, OrderEvent.__table__)),
    }


def _km(distance: float | None) -> str:
    return "?" if distance is None else f"{distance:.1f}km"


def _event(order: Order, now: datetime, kind: str, detail: str) -> dict:
    return {"order_id": order.id, "at": now, "kind": kind, "detail": detail, "actor": "system"}
