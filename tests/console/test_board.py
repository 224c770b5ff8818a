"""The orders board: the list and its filters, the live rows, an order's timeline, and staff actions."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import Order, OrderEvent, Resident, ResidentPhone, set_status, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.orders import make_order, only_order, snapshot, texts_to

T1, T2 = "+8613800000001", "+8613800000002"
OFFICER = "+8613700000009"
UNKNOWN = "+8613512345678"


def _order(db, resident=None, status="pending", category="housekeeping", code="400001", tech=None,
           minutes_ago=5, **values) -> Order:
    order = Order(code=code, category=category, resident_id=resident.id if resident else None,
                  technician_id=tech.id if tech else None,
                  created_at=utcnow() - timedelta(minutes=minutes_ago), **values)
    db.add(order)
    set_status(db, order, status)
    db.commit()
    return order


def _other_resident(db, name="李桂兰", phone="+8613904765678", community="东城社区") -> Resident:
    row = Resident(name=name, address="林东镇东城路8号", community=community, lat=people.LINDONG[0],
                   lng=people.LINDONG[1])
    row.phones = [ResidentPhone(phone=phone)]
    db.add(row)
    db.commit()
    return row


def _codes(html: str) -> list[str]:
    return re.findall(r'data-order-code="(\d{6})"', html)


def _flashes(html: str) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', html)


def _events(db, order, kind) -> list[OrderEvent]:
    db.expire_all()
    return list(db.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.kind == kind)))


@pytest.fixture
def dispatcher(staff):
    """A logged-in dispatcher (user name dispatcher-user)."""
    return staff.login("dispatcher")


# --- the board ------------------------------------------------------------------------------------

def test_the_board_lists_orders_newest_first_with_masked_phones(db, dispatcher):
    resident = people.resident(db)
    tech = people.technician(db, "张师傅", T1)
    _order(db, resident, code="400001", minutes_ago=30)
    _order(db, resident, status="accepted", code="400002", tech=tech, minutes_ago=3)
    html = dispatcher.get("/console/orders/").get_data(as_text=True)
    assert 'id="orders"' in html
    assert _codes(html) == ["400002", "400001"]
    table = html.split('id="orders"')[1]
    assert "+86****1234" in table and "13904761234" not in table
    assert 'data-status="accepted"' in table and "张师傅" in table and "家政维修" in table and "向阳社区" in table


def test_each_row_shows_minutes_waiting_and_the_flags(db, dispatcher):
    resident = people.resident(db)
    _order(db, resident, status="accepted", code="400001", minutes_ago=42, sla_breached=True)
    _order(db, resident, status="completed", code="400002", rating=3, needs_follow_up=True)
    html = dispatcher.get("/console/orders/?status=all").get_data(as_text=True)
    first, second = html.split('data-order-code="400001"')[1], html.split('data-order-code="400002"')[1]
    assert "42分钟" in first.split("</tr>")[0] and 'data-flag="sla"' in first.split("</tr>")[0]
    row = second.split("</tr>")[0]
    assert 'data-flag="follow-up"' in row and "不满意" in row


def test_an_unregistered_callers_order_shows_the_caller_masked(db, dispatcher):
    _order(db, None, code="400003", caller_phone=UNKNOWN, unregistered=True)
    html = dispatcher.get("/console/orders/").get_data(as_text=True)
    assert "+86****5678" in html and UNKNOWN not in html and 'data-flag="unregistered"' in html


@pytest.mark.parametrize("query, expected", [
    ("", ["400002", "400001"]),                      # the board opens on the open orders
    ("status=all", ["400003", "400002", "400001"]),
    ("status=completed", ["400003"]),
    ("status=open", ["400002", "400001"]),
    ("category=emergency", ["400002"]),
    ("status=all&community=东城社区", ["400003"]),
    ("category=housekeeping&community=向阳社区", ["400001"]),
    ("status=nonsense", ["400002", "400001"]),
])
def test_the_board_filters_by_status_category_and_community(db, dispatcher, query, expected):
    here, there = people.resident(db), _other_resident(db)
    _order(db, here, code="400001", minutes_ago=30)
    _order(db, here, category="emergency", status="escalated", code="400002", minutes_ago=20)
    _order(db, there, status="completed", code="400003", minutes_ago=10)
    page = dispatcher.get(f"/console/orders/?{query}").get_data(as_text=True)
    rows = dispatcher.get(f"/console/orders/rows?{query}").get_data(as_text=True)
    assert _codes(page) == expected and _codes(rows) == expected


def test_the_filters_offer_every_status_category_and_community(db, dispatcher):
    people.resident(db)
    _other_resident(db)
    html = dispatcher.get("/console/orders/").get_data(as_text=True)
    for select_id in ("filter-status", "filter-category", "filter-community"):
        assert f'id="{select_id}"' in html
    assert 'value="escalated"' in html and 'value="legal_aid"' in html
    assert 'value="东城社区"' in html and 'value="向阳社区"' in html


def test_the_rows_endpoint_returns_only_the_table_body_for_the_live_refresh(db, dispatcher):
    _order(db, people.resident(db), code="400001")
    resp = dispatcher.get("/console/orders/rows")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and _codes(html) == ["400001"]
    assert "<html" not in html and "<tbody" not in html


def test_the_board_page_polls_the_rows_every_three_seconds(dispatcher):
    html = dispatcher.get("/console/orders/").get_data(as_text=True)
    assert 'data-rows-url="/console/orders/rows"' in html and 'data-refresh-ms="3000"' in html
    assert "console/board.js" in html


def test_the_board_shows_at_most_200_orders_with_a_note(db, dispatcher):
    now = utcnow()
    db.add_all(Order(code=f"{500000 + i}", category="housekeeping", status="completed",
                     created_at=now - timedelta(minutes=i)) for i in range(201))
    db.commit()
    html = dispatcher.get("/console/orders/rows?status=all").get_data(as_text=True)
    codes = _codes(html)
    assert len(codes) == 200 and codes[0] == "500000" and "500200" not in codes
    assert 'id="orders-capped"' in html


def test_the_board_speaks_english_when_asked(db, dispatcher):
    _order(db, people.resident(db), code="400001", status="escalated")
    html = dispatcher.get("/console/orders/?lang=en").get_data(as_text=True)
    assert "Escalated" in html and "housekeeping" in html and not re.search(r">\s*board\.", html)


# --- an order's detail ----------------------------------------------------------------------------

def test_the_timeline_shows_events_offers_sms_sent_and_the_technicians_reply(app, db, tw, dispatcher, run_worker):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    order = make_order(app, db, resident)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="1")
    run_worker()
    html = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True)
    timeline = html.split('id="timeline"')[1]
    assert "派单给张师傅" in timeline and "状态：派单中" in timeline and "状态：已接单" in timeline
    assert "短信 → +86****0001" in timeline and f"派单{order.code}" in timeline  # the offer SMS sent
    assert "张师傅回复" in timeline and f"已接单{order.code}" in timeline
    assert "短信 → +86****1234" in timeline  # the resident told who comes
    assert "badge sent" in timeline


def test_each_offer_appears_once_in_the_timeline(app, db, dispatcher, run_worker):
    order = make_order(app, db, people.resident(db))
    people.technician(db, "张师傅", T1)
    run_worker()
    timeline = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True).split('id="timeline"')[1]
    assert timeline.count("张师傅") == timeline.count("派单给张师傅") == 1


def test_the_timeline_is_in_time_order_and_names_who_acted(db, dispatcher):
    order = _order(db, people.resident(db), code="400001", minutes_ago=10)
    order.events[0].at = utcnow() - timedelta(minutes=10)
    db.commit()
    dispatcher.post(f"/console/orders/{order.id}/cancel",
                    data={"reason": "老人已自行解决", "csrf_token": dispatcher.csrf})
    html = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True)
    timeline = html.split('id="timeline"')[1]
    assert timeline.index("状态：待派单") < timeline.index("状态：已取消")
    assert "dispatcher-user" in timeline and "老人已自行解决" in timeline


def test_an_unknown_order_is_404(dispatcher):
    assert dispatcher.get("/console/orders/999").status_code == 404


# --- creating an order for a caller ---------------------------------------------------------------

def test_an_order_created_for_a_registered_caller_is_offered_like_a_calls_order(db, dispatcher, run_worker,
                                                                               fake_twilio):
    people.resident(db)
    people.technician(db, "张师傅", T1)
    resp = dispatcher.post("/console/orders/new", data={"phone": "139-0476-1234", "category": "housekeeping",
                                                        "detail": "水管漏水", "csrf_token": dispatcher.csrf},
                           follow_redirects=True)
    order = only_order(db)
    assert order.code in "".join(_flashes(resp.get_data(as_text=True)))
    assert order.resident is not None and not order.unregistered and order.detail == "水管漏水"
    assert _events(db, order, "status:pending")[0].actor == "dispatcher-user"
    run_worker()
    assert only_order(db).status == "offered" and len(texts_to(fake_twilio, T1)) == 1


def test_an_order_created_for_an_unknown_number_is_unregistered_and_escalated(db, dispatcher, run_worker, fake_twilio):
    people.officer(db, "值班员", OFFICER)
    resp = dispatcher.post("/console/orders/new", data={"phone": UNKNOWN, "category": "daily_care",
                                                        "csrf_token": dispatcher.csrf}, follow_redirects=True)
    order = only_order(db)
    assert order.unregistered and order.resident_id is None and order.caller_phone == UNKNOWN
    assert "未登记" in "".join(_flashes(resp.get_data(as_text=True)))
    run_worker()
    assert only_order(db).status == "escalated"
    [alert] = texts_to(fake_twilio, OFFICER)
    assert order.code in alert


def test_a_new_order_with_a_bad_number_is_refused_with_a_message(db, dispatcher):
    resp = dispatcher.post("/console/orders/new", data={"phone": "12345", "category": "daily_care",
                                                        "csrf_token": dispatcher.csrf}, follow_redirects=True)
    assert "电话号码无效" in "".join(_flashes(resp.get_data(as_text=True)))
    assert db.scalar(select(func.count(Order.id))) == 0


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
