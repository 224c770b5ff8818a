"""Payments in the console: the order page's panel, staff recording and correcting a payment, the missing list.

Who: dispatchers (bureau staff of the elderly line) and admins; duty officers get 403, visitors the login page.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import OrderEvent, ServiceProvider
from models.services import PriceRule, SubsidyRule
from models.visits import Payment
from tests import people
from tests.console.board_helpers import T1, _flashes, _order

ROLES_ALLOWED = ("admin", "dispatcher")


@pytest.fixture
def completed(db):
    """A completed housekeeping order of an advanced-age resident by 张师傅 of 甲服务社: housekeeping costs
    30.00元; advanced age gets 80% up to 100.00元 a month -> 3000 × 80 / 100 = 2400 subsidy, 600 the resident."""
    provider = ServiceProvider(name="甲服务社")
    db.add(provider)
    db.add_all([PriceRule(category="housekeeping", price_fen=3000, valid_from=date(2020, 1, 1)),
                SubsidyRule(resident_class="advanced_age", share_percent=80, monthly_cap_fen=10000,
                            valid_from=date(2020, 1, 1))])
    db.commit()
    tech = people.technician(db, "张师傅", T1)
    tech.provider_id = provider.id
    db.commit()
    return _order(db, people.resident(db, advanced_age=True), status="completed", tech=tech, code="400001")


def _post(client, order, **form):
    data = {"method": "cash", "amount": "6", "reference": "", "csrf_token": client.csrf, **form}
    return client.post(f"/console/payments/order/{order.id}", data=data, follow_redirects=True)


def _payment(db, order) -> Payment | None:
    db.expire_all()
    return db.scalar(select(Payment).where(Payment.order_id == order.id))


# --- who may do what ------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES_ALLOWED)
def test_dispatcher_and_admin_see_the_missing_payments(staff, role):
    assert staff.login(role).get("/console/payments/missing").status_code == 200


@pytest.mark.parametrize("role", ROLES_ALLOWED)
def test_dispatcher_and_admin_may_record_a_payment(staff, db, completed, role):
    assert _post(staff.login(role), completed).status_code == 200
    assert _payment(db, completed) is not None


def test_a_duty_officer_may_neither_see_nor_record_payments(staff, db, completed):
    officer = staff.login("duty_officer")
    assert officer.get("/console/payments/missing").status_code == 403
    assert officer.post(f"/console/payments/order/{completed.id}",
                        data={"method": "cash", "amount": "6", "csrf_token": officer.csrf}).status_code == 403
    assert _payment(db, completed) is None


def test_a_visitor_is_sent_to_sign_in(client):
    resp = client.get("/console/payments/missing")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]


def test_a_visitors_post_is_refused_and_records_nothing(client, db, completed):
    resp = client.post(f"/console/payments/order/{completed.id}", data={"method": "cash", "amount": "6"})
    assert resp.status_code == 400  # no session, so no CSRF token either
    assert _payment(db, completed) is None


def test_a_post_without_the_csrf_token_is_refused_and_records_nothing(staff, db, completed):
    client = staff.login("dispatcher")
    resp = client.post(f"/console/payments/order/{completed.id}", data={"method": "cash", "amount": "6"})
    assert resp.status_code == 400 and _payment(db, completed) is None


# --- the order page ---------------------------------------------------------------------------------------

def test_a_completed_order_without_payment_shows_its_figures_and_missing(staff, completed):
    html = staff.login("dispatcher").get(f"/console/orders/{completed.id}").get_data(as_text=True)
    panel = html.split('id="order-payment"')[1]
    assert "30.00元" in panel and "24.00元" in panel and "6.00元" in panel  # price, subsidy, the resident's 600
    assert 'id="payment-missing"' in panel and "高龄 80%" in panel


def test_an_open_order_has_no_payment_panel(staff, db):
    order = _order(db, people.resident(db), status="pending", code="400002")
    html = staff.login("dispatcher").get(f"/console/orders/{order.id}").get_data(as_text=True)
    assert 'id="order-payment"' not in html


# --- recording and correcting --------------------------------------------------------------------------------

def test_staff_record_a_payment_priced_by_the_rules_and_logged_with_who(staff, db, completed):
    resp = _post(staff.login("dispatcher"), completed, method="ecny", amount="6.00", reference="ab12cd34")
    assert "已记录单400001的付款" in "".join(_flashes(resp.get_data(as_text=True)))
    payment = _payment(db, completed)
    assert (payment.method, payment.paid_fen, payment.reference, payment.source, payment.recorded_by) == (
        "ecny", 600, "AB12CD34", "console", "dispatcher-user")
    assert (payment.price_fen, payment.subsidy_fen) == (3000, 2400)
    event = db.scalar(select(OrderEvent).where(OrderEvent.order_id == completed.id, OrderEvent.kind == "payment"))
    assert event.actor == "dispatcher-user" and "数字人民币6.00元" in event.detail


def test_a_correction_replaces_the_payment_and_is_logged_as_a_correction(staff, db, completed):
    client = staff.login("dispatcher")
    _post(client, completed, amount="5")
    _post(client, completed, method="wechat_alipay", amount="六")
    payment = _payment(db, completed)
    assert (payment.method, payment.paid_fen) == ("wechat_alipay", 600)
    kinds = list(db.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == completed.id,
                                                          OrderEvent.kind.like("payment%")).order_by(OrderEvent.id)))
    assert kinds == ["payment", "payment_corrected"]
    html = client.get(f"/console/orders/{completed.id}").get_data(as_text=True)
    assert "更正付款" in html.split('id="timeline"')[1]


def test_free_needs_no_amount(staff, db, completed):
    _post(staff.login("dispatcher"), completed, method="subsidy_only", amount="")
    payment = _payment(db, completed)
    assert (payment.method, payment.paid_fen) == ("subsidy_only", 0)


@pytest.mark.parametrize("form, message", [
    ({"amount": "abc"}, "金额看不懂"),
    ({"amount": "-5"}, "金额看不懂"),
    ({"amount": "1" * 30}, "金额看不懂"),
    ({"method": "bitcoin"}, "请选择付款方式"),
    ({"method": "subsidy_only", "amount": "5"}, "免费时金额应为0"),
    ({"method": "cash", "reference": "AB12CD34"}, "只有数字人民币和微信/支付宝可填参考号"),
    ({"method": "ecny", "reference": "参考号!"}, "参考号只能是"),
    ({"method": "ecny", "reference": "A" * 65}, "参考号只能是"),
])
def test_a_bad_payment_form_is_answered_and_records_nothing(staff, db, completed, form, message):
    resp = _post(staff.login("dispatcher"), completed, **form)
    assert message in "".join(_flashes(resp.get_data(as_text=True)))
    assert _payment(db, completed) is None


def test_a_nul_byte_in_the_form_is_a_bad_request_and_records_nothing(staff, db, completed):
    assert _post(staff.login("dispatcher"), completed, amount="6\x00").status_code == 400
    assert _payment(db, completed) is None


def test_an_open_order_cannot_get_a_payment(staff, db):
    order = _order(db, people.resident(db), status="accepted", code="400003")
    resp = _post(staff.login("dispatcher"), order)
    assert "订单完成后才能记录付款" in "".join(_flashes(resp.get_data(as_text=True)))
    assert _payment(db, order) is None


def test_an_unknown_order_is_404(staff):
    client = staff.login("dispatcher")
    assert client.post("/console/payments/order/999", data={"csrf_token": client.csrf}).status_code == 404


# --- the missing payments -----------------------------------------------------------------------------------

def test_the_missing_list_shows_completed_orders_without_payment_only(staff, db, completed):
    client = staff.login("dispatcher")
    paid = _order(db, people.resident(db, name="李桂兰", phones=("+8613904765678",)), status="completed",
                  code="400005")
    _order(db, None, status="pending", code="400006")
    _post(client, paid)
    html = client.get("/console/payments/missing").get_data(as_text=True)
    assert 'data-order-code="400001"' in html
    assert 'data-order-code="400005"' not in html and 'data-order-code="400006"' not in html
