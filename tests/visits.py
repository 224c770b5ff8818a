"""Builders for the visit tests (issue 15): a technician at the door, the arrival calls placed, time passing."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

from sqlalchemy import select, update

from models import Order, OrderEvent, Visit, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.orders import call_in, only_order

TECH = "+8613800000001"
OFFICER = "+8613900000009"
ARRIVAL_ROUTE = "/twilio/voice/arrival"


def accepted(tw, db, run_worker, phones=(people.RESIDENT_MOBILE,)) -> Order:
    """A registered resident calls in for housekeeping and the technician accepts by SMS."""
    people.resident(db, phones=phones)
    people.technician(db, "张师傅", TECH)
    call_in(tw, phones[0] if phones else people.RESIDENT_MOBILE)
    run_worker()
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="1")
    return only_order(db)


def arrive(tw, db, run_worker, phones=(people.RESIDENT_MOBILE,)) -> Order:
    """As `accepted`, then the technician reports arrival by SMS (the worker has not run since)."""
    accepted(tw, db, run_worker, phones)
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="到达")
    return only_order(db)


def visit(db) -> Visit:
    """The one visit, freshly read."""
    db.expire_all()
    return db.scalars(select(Visit)).one()


def arrival_calls(fake_twilio) -> list[dict]:
    """The calls the fake Twilio accepted whose key goes to the arrival webhook."""
    return [c for c in fake_twilio.calls if ARRIVAL_ROUTE in (c["twiml"] or "")]


def gather_action(call: dict) -> str:
    """The URL the call's one-key question posts to."""
    [gather] = ET.fromstring(call["twiml"]).iter("Gather")
    return gather.get("action")


def events(db, order: Order, *kinds: str) -> list[tuple[str, str]]:
    """(kind, detail) of the order's events of these kinds, in order."""
    db.expire_all()
    return [(e.kind, e.detail) for e in db.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.kind.in_(kinds)).order_by(OrderEvent.id))]


def retry_due(app, db) -> None:
    """ARRIVAL_CALL_RETRY_MINUTES pass: the visit's next try is due; the reconciler finds it (Redis's copy,
    scheduled minutes ahead, is dropped, as a test cannot wait for it)."""
    app.extensions["hotline"].queue.connection.flushdb()
    db.execute(update(Visit).where(Visit.next_verify_at.is_not(None))
               .values(next_verify_at=utcnow() - timedelta(seconds=1)))
    db.commit()
