"""Visit length (issue 15): arrival to completion in whole minutes, against the category's minimum from the
price list in force that local day for the technician's provider; shorter visits are flagged."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from models import PriceRule, ServiceProvider, Technician, Visit, utcnow
from tests.conftest import ELDERLY_NUMBER
from tests.visits import TECH, accepted, arrive, events, visit


def price(db, min_minutes: int, provider_id: int | None = None, days_ago: int = 10) -> PriceRule:
    """A housekeeping price rule with this minimum, in force from `days_ago` local days ago."""
    row = PriceRule(category="housekeeping", provider_id=provider_id, price_fen=4000, min_minutes=min_minutes,
                    valid_from=(utcnow() - timedelta(days=days_ago)).date())
    db.add(row)
    db.commit()
    return row


def arrived_minutes_ago(db, minutes: float) -> None:
    """The visit began `minutes` ago."""
    db.execute(update(Visit).values(arrived_at=utcnow() - timedelta(minutes=minutes)))
    db.commit()


def done(tw) -> None:
    """The technician reports the order done by SMS."""
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="完成")


@pytest.fixture
def provider(db) -> ServiceProvider:
    """The provider the technician works for."""
    row = ServiceProvider(name="林东居家养老服务中心")
    db.add(row)
    db.commit()
    return row


def test_completion_records_the_minutes_since_arrival_and_the_minimum_in_force(tw, db, run_worker):
    price(db, 30)
    order = arrive(tw, db, run_worker)
    arrived_minutes_ago(db, 42.5)
    done(tw)
    closed = visit(db)
    assert (closed.minutes, closed.min_minutes, closed.too_short) == (42, 30, False)
    assert closed.completed_at is not None and closed.completion_source == "sms"
    assert events(db, order, "visit_length", "visit_too_short") == [("visit_length", "42 min")]


def test_a_visit_shorter_than_the_minimum_is_flagged_with_an_event(tw, db, run_worker):
    price(db, 30)
    order = arrive(tw, db, run_worker)
    arrived_minutes_ago(db, 12)
    done(tw)
    assert (visit(db).minutes, visit(db).too_short) == (12, True)
    assert events(db, order, "visit_too_short") == [("visit_too_short", "12 < 30 min")]


def test_the_providers_own_minimum_wins_over_the_general_one(tw, db, run_worker, provider):
    price(db, 30)
    price(db, 60, provider_id=provider.id)
    accepted(tw, db, run_worker)
    db.execute(update(Technician).values(provider_id=provider.id))
    db.commit()
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="到达")
    arrived_minutes_ago(db, 45)
    done(tw)
    assert (visit(db).min_minutes, visit(db).too_short) == (60, True)


def test_a_price_change_not_yet_in_force_does_not_apply(tw, db, run_worker):
    price(db, 30)
    price(db, 90, days_ago=-3)  # from three days on
    arrive(tw, db, run_worker)
    arrived_minutes_ago(db, 45)
    done(tw)
    assert (visit(db).min_minutes, visit(db).too_short) == (30, False)


def test_the_latest_rule_in_force_applies_after_a_change(tw, db, run_worker):
    price(db, 30, days_ago=20)
    price(db, 50, days_ago=2)
    arrive(tw, db, run_worker)
    arrived_minutes_ago(db, 45)
    done(tw)
    assert (visit(db).min_minutes, visit(db).too_short) == (50, True)


def test_with_no_price_rule_there_is_no_minimum_and_no_flag(tw, db, run_worker):
    arrive(tw, db, run_worker)
    done(tw)
    assert (visit(db).min_minutes, visit(db).too_short) == (None, False)


def test_a_completion_without_an_arrival_opens_the_visit_then_with_no_length(tw, db, run_worker, fake_twilio):
    price(db, 30)
    order = accepted(tw, db, run_worker)
    done(tw)
    closed = visit(db)
    assert (closed.minutes, closed.too_short, closed.verification) == (0, True, "pending")
    assert ("visit_opened", "sms") in events(db, order, "visit_opened")


def test_a_second_done_changes_nothing(tw, db, run_worker):
    price(db, 30)
    arrive(tw, db, run_worker)
    arrived_minutes_ago(db, 40)
    done(tw)
    first = visit(db).completed_at
    done(tw)
    assert (visit(db).completed_at, visit(db).minutes) == (first, 40)
