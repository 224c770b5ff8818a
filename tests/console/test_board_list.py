"""The orders board: the list newest first, masked phones, flags, its filters and the live rows."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from models import Order, Resident, ResidentPhone, utcnow
from tests import people
from tests.console.board_helpers import (
    T1,
    UNKNOWN,
    _codes,
    _order,
    dispatcher,  # noqa: F401 - fixtures
)


def _other_resident(db, name="李桂兰", phone="+8613904765678", community="东城社区") -> Resident:
    row = Resident(name=name, address="林东镇东城路8号", community=community, lat=people.LINDONG[0],
                   lng=people.LINDONG[1])
    row.phones = [ResidentPhone(phone=phone)]
    db.add(row)
    db.commit()
    return row


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
