"""The lifecycle of orders, offers and cases: the database refuses other statuses, and every fast path (a plain
statement instead of the ORM) writes the rows set_status / set_case_status write for the same move."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from dispatch.assignments import accept
from dispatch.case_alerts import acknowledge
from dispatch.matching import Candidate, TechnicianCard
from dispatch.offer_rows import write_round
from hotline.webhooks import call_store
from models import (
    Case,
    CaseStatus,
    OfferAttempt,
    OfferStatus,
    Order,
    OrderStatus,
    add_event,
    new_case_code,
    new_code,
    set_case_status,
    set_status,
    utcnow,
)
from models.lifecycle import ORDER_TRANSITIONS, guarded_update
from tests import people

STAMPS = ("offered_at", "accepted_at", "arrived_at", "completed_at", "escalated_at", "cancelled_at")
# What differs between two orders made the same way at different moments.
UNIQUE = {"id", "code", "call_sid", "created_at", *STAMPS}
CASE_UNIQUE = {"id", "code", "call_sid", "created_at", "answered_at", "acknowledged_at", "closed_at"}
CALLER = "+8613904769999"


def _order(db, status=OrderStatus.PENDING) -> Order:
    order = Order(code=new_code(db), category="housekeeping", created_at=utcnow())
    db.add(order)
    set_status(db, order, OrderStatus.PENDING, actor="caller")
    if status != OrderStatus.PENDING:
        set_status(db, order, status)
    db.commit()
    return order


def _order_shape(db, order_id: int) -> dict:
    """The order's row without what is unique to it (stamps as set or not) and its timeline without ids or times."""
    db.expire_all()
    order = db.get(Order, order_id)
    row = {c.name: getattr(order, c.key) for c in Order.__table__.c if c.name not in UNIQUE}
    row["stamped"] = [s for s in STAMPS if getattr(order, s) is not None]
    row["events"] = [(e.kind, e.detail, e.actor) for e in order.events]
    return row


def _case(db, status=CaseStatus.VOICEMAIL) -> Case:
    case = Case(code=new_case_code(db), call_sid=f"CA{new_case_code(db)}{len(status)}", caller=CALLER,
                status=status, created_at=utcnow())
    db.add(case)
    db.commit()
    return case


def _case_shape(db, case_id: int) -> dict:
    db.expire_all()
    case = db.get(Case, case_id)
    row = {c.name: getattr(case, c.key) for c in Case.__table__.c if c.name not in CASE_UNIQUE}
    row["stamped"] = [s for s in ("answered_at", "acknowledged_at", "closed_at") if getattr(case, s) is not None]
    row["events"] = [(e.kind, e.detail, e.actor) for e in case.events]
    return row


def test_an_order_status_outside_the_lifecycle_is_refused_by_the_database(db):
    db.add(Order(code="123456", category="housekeeping", status="lost", created_at=utcnow()))
    with pytest.raises(IntegrityError):
        db.commit()


def test_an_offer_status_outside_the_lifecycle_is_refused_by_the_database(db):
    order, tech = _order(db), people.technician(db, "张师傅", "+8613904760001")
    db.add(OfferAttempt(order_id=order.id, technician_id=tech.id, status="maybe", expires_at=utcnow()))
    with pytest.raises(IntegrityError):
        db.commit()


def test_a_case_status_outside_the_lifecycle_is_refused_by_the_database(db):
    db.add(Case(code="654321", call_sid="CAbad", caller=CALLER, status="forgotten", created_at=utcnow()))
    with pytest.raises(IntegrityError):
        db.commit()


def test_a_guarded_update_leaves_a_record_outside_the_moves_sources_alone(db):
    order = _order(db)  # pending: an order can only arrive once accepted
    moved = db.execute(guarded_update(Order.__table__, ORDER_TRANSITIONS[OrderStatus.ARRIVED], order.id, utcnow()))
    assert moved.rowcount == 0
    assert _order_shape(db, order.id)["status"] == OrderStatus.PENDING


def test_an_offer_round_writes_the_rows_set_status_writes(db):
    tech = people.technician(db, "张师傅", "+8613904760001")
    fast, orm = _order(db), _order(db)
    now = utcnow()
    expires = now + timedelta(minutes=5)
    write_round(db, fast, [Candidate(TechnicianCard(tech.id, tech.name, tech.phone), 1.0, True)], "offer", expires,
                1, now)
    db.add(OfferAttempt(order_id=orm.id, technician_id=tech.id, status=OfferStatus.PENDING, distance_km=1.0,
                        sent_at=now, expires_at=expires, round=1))
    add_event(db, orm, "offer", f"{tech.name} 1.0km")
    set_status(db, orm, OrderStatus.OFFERED)
    db.commit()
    assert _order_shape(db, fast.id) == _order_shape(db, orm.id)
    assert [(a.technician_id, a.status, a.round) for a in db.get(Order, fast.id).offers] == \
           [(a.technician_id, a.status, a.round) for a in db.get(Order, orm.id).offers]


def test_an_accepted_offer_writes_the_rows_set_status_writes(db, settings):
    tech = people.technician(db, "张师傅", "+8613904760001")
    fast, orm = _order(db, OrderStatus.OFFERED), _order(db, OrderStatus.OFFERED)
    accept(db, tech, fast, settings, utcnow())
    orm.technician_id = tech.id
    set_status(db, orm, OrderStatus.ACCEPTED, actor=tech.name, detail=tech.name)
    db.commit()
    assert _order_shape(db, fast.id) == _order_shape(db, orm.id)


def test_the_ivr_order_statement_writes_the_rows_set_status_writes(app, db):
    now = utcnow()

    def commit(conn):
        call_store.open_call(conn, "CAlifecycle", CALLER, "+864768000000", "in-progress", now)
        return call_store.commit_order(conn, "CAlifecycle", "housekeeping", "21", CALLER, now)

    with app.extensions["hotline"].hot_engine.begin() as conn:
        fast = commit(conn)
    orm = Order(code=new_code(db), category="housekeeping", caller_phone=CALLER, unregistered=True, created_at=now)
    db.add(orm)
    set_status(db, orm, OrderStatus.PENDING, actor="caller", detail="IVR path 21")
    db.commit()
    assert _order_shape(db, fast.id) == _order_shape(db, orm.id)


def test_an_acknowledgement_writes_the_rows_set_case_status_writes(db):
    officer = people.officer(db, "李主任", "+8613904760002", line="child")
    fast, orm = _case(db), _case(db)
    acknowledge(db, fast, officer, "sms", utcnow())
    orm.acknowledged_by_id, orm.next_alert_at = officer.id, None
    set_case_status(db, orm, CaseStatus.ACKNOWLEDGED, f"{officer.name} by sms", actor=officer.name)
    db.commit()
    assert _case_shape(db, fast.id) == _case_shape(db, orm.id)
