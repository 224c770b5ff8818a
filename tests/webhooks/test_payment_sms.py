"""The technician reports the payment with the completion: signed `POST /twilio/sms` `完成 CODE 现金 20`."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import Order, OrderEvent, ServiceProvider
from models.services import PriceRule, SubsidyRule
from models.visits import Payment
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.orders import answer, call_in, only_order, snapshot

T1 = "+8613800000001"


@pytest.fixture
def working(tw, db, run_worker):
    """张师傅 of 甲服务社 has arrived at a hardship resident's housekeeping order; housekeeping costs 30.00元,
    hardship residents get 100% up to 20.00元 a month."""
    provider = ServiceProvider(name="甲服务社")
    db.add(provider)
    db.add_all([PriceRule(category="housekeeping", price_fen=3000, valid_from=date(2020, 1, 1)),
                SubsidyRule(resident_class="hardship", share_percent=100, monthly_cap_fen=2000,
                            valid_from=date(2020, 1, 1))])
    db.commit()
    people.resident(db, hardship=True)
    tech = people.technician(db, "张师傅", T1, km_north=0.5)
    tech.provider_id = provider.id
    db.commit()
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    order = only_order(db)
    sms(tw, "1")
    sms(tw, f"到达 {order.code}")
    return order


def sms(tw, body):
    return tw.sms(from_=T1, to=ELDERLY_NUMBER, body=body)


def _status(db, order) -> str:
    db.expire_all()
    return db.get(Order, order.id).status


def _payment(db, order) -> Payment | None:
    db.expire_all()
    return db.scalar(select(Payment).where(Payment.order_id == order.id))


def test_done_with_cash_completes_the_order_and_records_the_payment_priced_by_the_rules(tw, db, working):
    resp = sms(tw, f"完成 {working.code} 现金 20")
    assert _status(db, working) == "completed"
    payment = _payment(db, working)
    assert payment is not None
    assert (payment.method, payment.paid_fen, payment.source, payment.recorded_by) == ("cash", 2000, "sms", "张师傅")
    # price 30.00元; 100% of 3000 = 3000, capped at the month's 2000: subsidy 20.00元
    assert (payment.price_fen, payment.subsidy_fen) == (3000, 2000)
    assert payment.price_rule_id is not None and payment.subsidy_rule_id is not None
    assert working.code in answer(resp) and "现金20.00元" in answer(resp)


def test_the_payment_is_logged_on_the_orders_timeline_with_the_technician(tw, db, working):
    sms(tw, f"完成 {working.code} 现金 20")
    db.expire_all()
    event = db.scalar(select(OrderEvent).where(OrderEvent.order_id == working.id, OrderEvent.kind == "payment"))
    assert event is not None and event.actor == "张师傅" and "现金20.00元" in event.detail


def test_full_width_digits_and_a_chinese_amount_are_understood(tw, db, working):
    code = working.code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    sms(tw, f"{code} 完成 微信 二十块五")
    payment = _payment(db, working)
    assert payment is not None and (payment.method, payment.paid_fen) == ("wechat_alipay", 2050)


def test_an_ecny_payment_keeps_its_transaction_reference(tw, db, working):
    sms(tw, f"完成 {working.code} 数币 20 参考号AB12CD34EF")
    payment = _payment(db, working)
    assert payment is not None and (payment.method, payment.reference) == ("ecny", "AB12CD34EF")


def test_free_records_a_subsidy_only_payment_of_nothing(tw, db, working):
    sms(tw, f"完成 {working.code} 免费")
    payment = _payment(db, working)
    assert payment is not None and (payment.method, payment.paid_fen, payment.subsidy_fen) == ("subsidy_only", 0, 2000)


def test_a_garbage_amount_is_answered_and_changes_nothing(tw, db, working):
    before = snapshot(db)
    resp = sms(tw, f"完成 {working.code} 现金 二十块五十")
    assert "订单未完成" in answer(resp)
    assert _status(db, working) == "arrived"
    assert _payment(db, working) is None
    assert snapshot(db) == before


def test_a_bare_done_completes_without_a_payment(tw, db, working):
    resp = sms(tw, f"完成 {working.code}")
    assert _status(db, working) == "completed"
    assert _payment(db, working) is None
    assert "已完成" in answer(resp)
