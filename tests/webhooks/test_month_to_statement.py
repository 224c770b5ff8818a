"""Issue 15 end to end: orders walked through signed webhooks (call, accept, arrival, the resident's key on the
arrival call, completion with payment) settle into the provider's monthly statement, computed by hand below."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dispatch import settlement
from models import Order, ServiceProvider, Statement, utcnow
from models.services import PriceRule, SubsidyRule
from tests import people
from tests.conftest import ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.orders import call_in
from tests.visits import TECH, arrival_calls, gather_action

# Housekeeping costs 30.00元; a resident with no flag ("other") is subsidised 50%, no cap.
PRICE, SHARE = 3000, 50


@pytest.fixture
def provider(db) -> ServiceProvider:
    """甲服务社 with one technician, 张师傅; a price list and a subsidy rule in force since 2020."""
    row = ServiceProvider(name="甲服务社")
    db.add(row)
    db.add_all([PriceRule(category="housekeeping", price_fen=PRICE, min_minutes=0, valid_from=date(2020, 1, 1)),
                SubsidyRule(resident_class="other", share_percent=SHARE, valid_from=date(2020, 1, 1))])
    db.commit()
    people.resident(db)
    people.technician(db, "张师傅", TECH).provider_id = row.id
    db.commit()
    return row


def visit_paid(tw, db, run_worker, fake_twilio, key: str, payment: str) -> Order:
    """One order: the resident calls, 张师傅 accepts, reports arrival, the resident presses `key` on the arrival
    call, and 张师傅 completes it reporting `payment`."""
    before = len(arrival_calls(fake_twilio))
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    order = db.scalars(select(Order).order_by(Order.id.desc())).first()
    sms = lambda body: tw.sms(from_=TECH, to=ELDERLY_NUMBER, body=body)  # noqa: E731
    sms(f"1 {order.code}")
    sms(f"到达 {order.code}")
    run_worker()
    call = arrival_calls(fake_twilio)[before]
    answer = tw.new_call(from_=ELDERLY_NUMBER, to=people.RESIDENT_MOBILE, direction="outbound-api")
    tw.post(gather_action(call).removeprefix(PUBLIC_BASE_URL), {**answer.base_params(), "Digits": key})
    sms(f"完成 {order.code} {payment}")
    db.expire_all()
    return db.get(Order, order.id)


def test_a_verified_and_a_disputed_visit_settle_as_computed_by_hand(tw, db, run_worker, fake_twilio, provider,
                                                                     settings):
    verified = visit_paid(tw, db, run_worker, fake_twilio, "1", "现金 15")
    disputed = visit_paid(tw, db, run_worker, fake_twilio, "2", "现金15元")
    assert verified.status == disputed.status == "completed"
    month = verified.completed_at.astimezone(settings.tz).date().replace(day=1)

    statement = settlement.refresh(db, provider.id, month, settings.tz)
    db.commit()
    # Counted: the verified visit only. price 3000 − paid 1500 = 1500; the rules owe 3000 × 50% = 1500.
    assert (statement.visits, statement.price_fen, statement.paid_fen, statement.subsidy_fen) == (1, 3000, 1500, 1500)
    apart = [(line.order_id, line.reason) for line in statement.lines if not line.counted]
    assert apart == [(disputed.id, "disputed")]

    settlement.clear_visit(db, statement, disputed.id, "dispatcher-user", "回访老人确认已上门，按键误按")
    db.commit()
    statement = settlement.refresh(db, provider.id, month, settings.tz)
    db.commit()
    # Both counted after the clearance: 2 × 3000 = 6000 price, 2 × 1500 paid, 2 × 1500 subsidy claimed.
    assert (statement.visits, statement.price_fen, statement.paid_fen, statement.subsidy_fen) == (2, 6000, 3000, 3000)

    next_month = (month + timedelta(days=32)).replace(day=1)
    settlement.close(db, statement, "dispatcher-user", settings.tz, now=utcnow().replace(
        year=next_month.year, month=next_month.month, day=2))
    db.commit()
    db.expire_all()
    closed = db.get(Statement, statement.id)
    assert closed.status == "closed" and closed.subsidy_fen == 3000
    with pytest.raises(settlement.SettlementError):
        settlement.refresh(db, provider.id, month, settings.tz)
