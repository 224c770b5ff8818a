"""set_status and set_case_status make only the moves their transition tables list; any other raises and changes
nothing, whatever the caller checked or forgot to check."""
from __future__ import annotations

import pytest

from models import Case, CaseStatus, Order, OrderStatus, new_case_code, new_code, set_case_status, set_status, utcnow

CALLER = "+8613904769999"


def _pending_order(db) -> Order:
    order = Order(code=new_code(db), category="housekeeping", created_at=utcnow())
    db.add(order)
    set_status(db, order, OrderStatus.PENDING, actor="caller")
    db.commit()
    return order


def _ringing_case(db) -> Case:
    case = Case(code=new_case_code(db), call_sid="CA" + "5" * 32, caller=CALLER, created_at=utcnow())
    db.add(case)
    set_case_status(db, case, CaseStatus.RINGING, "incoming call")
    db.commit()
    return case


def _reloaded(db, model, record_id: int):
    db.expire_all()
    return db.get(model, record_id)


def test_an_order_move_the_table_allows_sets_the_status_stamps_it_and_records_its_event(db):
    order = _pending_order(db)
    set_status(db, order, OrderStatus.ACCEPTED, actor="张师傅", detail="张师傅")
    db.commit()
    order = _reloaded(db, Order, order.id)
    assert order.status == OrderStatus.ACCEPTED and order.accepted_at is not None
    assert [(e.kind, e.actor) for e in order.events] == [("status:pending", "caller"), ("status:accepted", "张师傅")]


def test_an_order_move_the_table_does_not_allow_raises_naming_from_and_to_and_changes_nothing(db):
    order = _pending_order(db)
    with pytest.raises(ValueError, match="from pending to completed"):
        set_status(db, order, OrderStatus.COMPLETED, actor="张师傅")
    assert not db.new and not db.dirty  # no event queued, no attribute touched
    db.commit()
    order = _reloaded(db, Order, order.id)
    assert order.status == OrderStatus.PENDING and order.completed_at is None
    assert [e.kind for e in order.events] == ["status:pending"]


def test_a_case_move_the_table_allows_sets_the_status_stamps_it_and_records_its_event(db):
    case = _ringing_case(db)
    set_case_status(db, case, CaseStatus.ANSWERED, "李主任", actor="李主任")
    db.commit()
    case = _reloaded(db, Case, case.id)
    assert case.status == CaseStatus.ANSWERED and case.answered_at is not None
    assert [(e.kind, e.detail) for e in case.events] == [("call", "incoming call"), ("answered", "李主任")]


def test_a_case_move_the_table_does_not_allow_raises_naming_from_and_to_and_changes_nothing(db):
    case = _ringing_case(db)
    with pytest.raises(ValueError, match="from ringing to closed"):
        set_case_status(db, case, CaseStatus.CLOSED, "closing note", actor="李主任")
    assert not db.new and not db.dirty
    db.commit()
    case = _reloaded(db, Case, case.id)
    assert case.status == CaseStatus.RINGING and case.closed_at is None
    assert [e.kind for e in case.events] == ["call"]
