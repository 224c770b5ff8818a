"""Staff actions on an order from the board: reassign, cancel, follow up; refused moves, CSRF and roles."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Order, utcnow
from tests import people
from tests.console.board_helpers import (
    T1,
    T2,
    UNKNOWN,
    _codes,
    _events,
    _flashes,
    _order,
    dispatcher,  # noqa: F401 - fixtures
)
from tests.orders import only_order, snapshot, texts_to

# --- actions on an order --------------------------------------------------------------------------

def test_reassigning_from_the_detail_page_assigns_texts_the_technician_and_records_the_user(
        db, dispatcher, run_worker, fake_twilio):
    resident = people.resident(db)
    first = people.technician(db, "李师傅", T1)
    second = people.technician(db, "张师傅", T2)
    order = _order(db, resident, status="accepted", tech=first, accepted_at=utcnow())
    page = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True)
    assert 'id="reassign-form"' in page and f'<option value="{second.id}">' in page
    resp = dispatcher.post(f"/console/orders/{order.id}/reassign",
                           data={"technician": str(second.id), "csrf_token": dispatcher.csrf}, follow_redirects=True)
    assert "已改派" in "".join(_flashes(resp.get_data(as_text=True)))
    db.expire_all()
    assert db.get(Order, order.id).technician_id == second.id
    assert _events(db, order, "reassigned")[0].actor == "dispatcher-user"
    run_worker()
    assert len(texts_to(fake_twilio, T2)) == 1 and len(texts_to(fake_twilio, T1)) == 1
    assert "张师傅" in texts_to(fake_twilio, people.RESIDENT_MOBILE)[0]


def test_cancelling_from_the_detail_page_texts_the_technician_and_records_the_user(
        db, dispatcher, run_worker, fake_twilio):
    tech = people.technician(db, "李师傅", T1)
    order = _order(db, people.resident(db), status="accepted", tech=tech, accepted_at=utcnow())
    resp = dispatcher.post(f"/console/orders/{order.id}/cancel",
                           data={"reason": "重复下单", "csrf_token": dispatcher.csrf}, follow_redirects=True)
    assert "已取消" in "".join(_flashes(resp.get_data(as_text=True)))
    [event] = _events(db, order, "status:cancelled")
    assert (event.actor, event.detail) == ("dispatcher-user", "重复下单")
    run_worker()
    assert order.code in texts_to(fake_twilio, T1)[0]


def test_following_up_a_poor_rating_clears_the_flag_and_records_the_user(db, dispatcher):
    order = _order(db, people.resident(db), status="completed", rating=3, needs_follow_up=True)
    page = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True)
    assert 'id="follow-up-form"' in page
    dispatcher.post(f"/console/orders/{order.id}/follow-up", data={"note": "已致电道歉", "csrf_token": dispatcher.csrf})
    db.expire_all()
    assert db.get(Order, order.id).needs_follow_up is False
    [event] = _events(db, order, "followed_up")
    assert (event.actor, event.detail) == ("dispatcher-user", "已致电道歉")


def test_cancelling_a_completed_order_is_refused_with_a_message_and_no_change(db, dispatcher):
    order = _order(db, people.resident(db), status="completed")
    before = snapshot(db)
    resp = dispatcher.post(f"/console/orders/{order.id}/cancel",
                           data={"reason": "误操作", "csrf_token": dispatcher.csrf}, follow_redirects=True)
    assert "服务单状态为“已完成”，不能取消" in "".join(_flashes(resp.get_data(as_text=True)))
    assert snapshot(db) == before


def test_reassigning_an_order_the_technician_is_already_at_is_refused_with_no_change(db, dispatcher):
    first = people.technician(db, "李师傅", T1)
    second = people.technician(db, "张师傅", T2)
    order = _order(db, people.resident(db), status="arrived", tech=first)
    before = snapshot(db)
    resp = dispatcher.post(f"/console/orders/{order.id}/reassign",
                           data={"technician": str(second.id), "csrf_token": dispatcher.csrf}, follow_redirects=True)
    assert "不能改派" in "".join(_flashes(resp.get_data(as_text=True)))
    assert snapshot(db) == before


def test_a_closed_order_offers_no_reassign_or_cancel_form(db, dispatcher):
    order = _order(db, people.resident(db), status="cancelled")
    page = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True)
    assert 'id="reassign-form"' not in page and 'id="cancel-form"' not in page


@pytest.mark.parametrize("action, field", [("cancel", "reason"), ("reassign", "technician"),
                                           ("follow-up", "note")])
def test_an_action_without_the_csrf_token_is_400_and_changes_nothing(db, dispatcher, action, field):
    tech = people.technician(db, "张师傅", T2)
    order = _order(db, people.resident(db), status="escalated", needs_follow_up=True)
    before = snapshot(db)
    value = str(tech.id) if field == "technician" else "理由"
    assert dispatcher.post(f"/console/orders/{order.id}/{action}", data={field: value}).status_code == 400
    assert snapshot(db) == before and only_order(db).needs_follow_up


def test_a_new_order_without_the_csrf_token_is_400_and_adds_nothing(db, dispatcher):
    resp = dispatcher.post("/console/orders/new", data={"phone": UNKNOWN, "category": "daily_care"})
    assert resp.status_code == 400
    assert db.scalar(select(func.count(Order.id))) == 0


@pytest.mark.parametrize("method, path", [("get", "/console/orders/"), ("get", "/console/orders/rows"),
                                          ("get", "/console/orders/{id}"), ("post", "/console/orders/{id}/cancel"),
                                          ("post", "/console/orders/new")])
def test_a_duty_officer_is_refused_the_board(db, staff, method, path):
    order = _order(db, people.resident(db))
    client = staff.login("duty_officer")
    before = snapshot(db)
    resp = getattr(client, method)(path.format(id=order.id), data={"csrf_token": client.csrf, "reason": "x",
                                                                  "phone": UNKNOWN, "category": "daily_care"})
    assert resp.status_code == 403
    assert snapshot(db) == before


def test_an_admin_may_use_the_board(db, staff):
    _order(db, people.resident(db), code="400001")
    assert _codes(staff.login("admin").get("/console/orders/").get_data(as_text=True)) == ["400001"]
