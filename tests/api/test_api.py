"""The JSON API: orders for the bureau's other systems, behind a bearer token."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hotline.factory import create_app
from models import Order, set_status
from tests import people
from tests.conftest import API_TOKEN

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)


def _order(db, code, minutes, resident=None, category="housekeeping", **fields) -> Order:
    order = Order(code=code, category=category, resident_id=resident.id if resident else None,
                  created_at=T0 + timedelta(minutes=minutes), **fields)
    db.add(order)
    db.commit()
    return order


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": f"Bearer {API_TOKEN}x"},
    {"Authorization": API_TOKEN},
    {"Authorization": f"Token {API_TOKEN}"},
    {"Authorization": "Bearer "},
], ids=["none", "wrong", "longer", "no-scheme", "other-scheme", "empty"])
def test_orders_without_the_right_token_are_refused(client, db, headers):
    _order(db, "123456", 0)
    resp = client.get("/api/orders", headers=headers)
    assert resp.status_code == 401
    assert resp.is_json and "orders" not in resp.json
    assert "123456" not in resp.get_data(as_text=True)


def test_one_order_without_the_token_is_refused(client, db):
    _order(db, "123456", 0)
    resp = client.get("/api/orders/123456")
    assert resp.status_code == 401
    assert "123456" not in resp.get_data(as_text=True)


def test_api_is_closed_when_no_token_is_configured(settings, db):
    _order(db, "123456", 0)
    app = create_app(settings.with_overrides(api_token=""))
    try:
        client = app.test_client()
        assert client.get("/api/orders").status_code == 401
        assert client.get("/api/orders", headers={"Authorization": "Bearer "}).status_code == 401
    finally:
        app.extensions["hotline"].dispose()


def test_orders_are_listed_newest_first(api, db):
    # Inserted out of time order, so the answer cannot just follow insertion.
    _order(db, "222222", 20)
    _order(db, "111111", 10)
    _order(db, "333333", 30)
    resp = api("/api/orders")
    assert resp.status_code == 200
    assert [o["code"] for o in resp.json["orders"]] == ["333333", "222222", "111111"]


def test_no_orders_is_an_empty_list(api):
    resp = api("/api/orders")
    assert resp.status_code == 200 and resp.json == {"orders": []}


def test_each_order_has_code_status_category_resident_technician_and_iso_times(api, db):
    resident = people.resident(db)
    _order(db, "654321", 0, resident=resident, caller_phone=people.RESIDENT_MOBILE)
    [data] = api("/api/orders").json["orders"]
    assert data["code"] == "654321" and data["status"] == "pending" and data["category"] == "housekeeping"
    assert data["resident"] == {"name": "王秀英", "phone": people.RESIDENT_MOBILE}
    assert data["technician"] is None
    assert datetime.fromisoformat(data["created_at"]) == T0
    assert data["accepted_at"] is None and data["arrived_at"] is None and data["completed_at"] is None


def test_an_accepted_order_names_its_technician_and_when(api, db):
    resident = people.resident(db)
    tech = people.technician(db, "张师傅", "+8613800000002")
    order = _order(db, "654321", 0, resident=resident)
    order.technician_id = tech.id
    set_status(db, order, "accepted", actor="张师傅")
    db.commit()
    data = api("/api/orders/654321").json
    assert data["status"] == "accepted"
    assert data["technician"] == {"name": "张师傅", "phone": "+8613800000002"}
    assert datetime.fromisoformat(data["accepted_at"]).tzinfo is not None


def test_one_order_by_code(api, db):
    _order(db, "111111", 0)
    _order(db, "222222", 5, category="legal_aid")
    resp = api("/api/orders/222222")
    assert resp.status_code == 200
    assert resp.json["code"] == "222222" and resp.json["category"] == "legal_aid"


def test_unknown_code_is_a_404_json_error(api, db):
    _order(db, "111111", 0)
    resp = api("/api/orders/999999")
    assert resp.status_code == 404
    assert resp.is_json and resp.json.get("error")


def test_a_reused_code_answers_with_the_open_order_even_when_a_closed_one_is_newer(api, db):
    _order(db, "777777", 0, category="legal_aid")
    _order(db, "777777", 60, category="daily_care", status="completed", completed_at=T0 + timedelta(hours=2))
    data = api("/api/orders/777777").json
    assert data["category"] == "legal_aid" and data["status"] == "pending"


def test_unregistered_caller_order_shows_the_number_they_called_from(api, db):
    _order(db, "246810", 0, caller_phone="+8613700001111", unregistered=True)
    data = api("/api/orders/246810").json
    assert data["resident"] == {"name": None, "phone": "+8613700001111"}
    assert data["unregistered"] is True
