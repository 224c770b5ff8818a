"""The demo's purchased services: two providers with their technicians, a price change mid last month, the
subsidy rules, and a last month that settles with lines counted and lines apart."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from dispatch import settlement
from hotline.registry.demo import load_demo
from hotline.registry.demo_history import load_history
from hotline.registry.demo_services import CAP_FEN, first_of_last_month, load_service_month
from models import Order, Payment, PriceRule, Resident, ServiceProvider, SubsidyRule, Technician, Visit

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc)


@pytest.fixture
def tz(settings):
    return settings.tz


@pytest.fixture
def demo_month(db, tz):
    load_demo(db, tz, NOW)
    load_history(db, NOW)
    load_service_month(db, tz, NOW)
    db.commit()


def _statements(db, tz):
    month = first_of_last_month(NOW, tz)
    return [settlement.refresh(db, p.id, month, tz) for p in db.scalars(select(ServiceProvider).order_by(
        ServiceProvider.id))]


def test_every_technician_belongs_to_one_of_two_providers(db, tz):
    load_demo(db, tz, NOW)
    db.commit()
    assert db.scalar(select(func.count(ServiceProvider.id))) == 2
    assert db.scalar(select(func.count(Technician.id)).where(Technician.provider_id.is_(None))) == 0


def test_the_demo_registry_alone_adds_no_orders(db, tz):
    load_demo(db, tz, NOW)
    db.commit()
    assert db.scalar(select(func.count(Order.id))) == 0


def test_housekeeping_changes_price_in_the_middle_of_last_month(db, tz):
    load_demo(db, tz, NOW)
    db.commit()
    rules = db.scalars(select(PriceRule).where(PriceRule.category == "housekeeping").order_by(PriceRule.valid_from))
    assert [(r.price_fen, r.valid_from.isoformat()) for r in rules] == [(3000, "2026-10-01"), (3500, "2026-11-16")]


def test_hardship_and_advanced_age_are_fully_subsidised_others_half_capped_at_200_yuan(db, tz):
    load_demo(db, tz, NOW)
    db.commit()
    rules = {r.resident_class: (r.share_percent, r.monthly_cap_fen) for r in db.scalars(select(SubsidyRule))}
    assert rules == {"hardship": (100, 20000), "advanced_age": (100, 20000), "empty_nest": (50, 20000),
                     "left_behind": (50, 20000), "other": (50, 20000)}


def test_last_month_settles_with_counted_lines_and_one_disputed_too_short_and_unverified(db, tz, demo_month):
    lines = [line for s in _statements(db, tz) for line in s.lines]
    assert sum(line.counted for line in lines) > 10
    reasons = [line.reason for line in lines if not line.counted]
    assert reasons.count("disputed") == 1 and reasons.count("unverified") == 1
    assert reasons.count("too_short") >= 1  # the demo's own short visit, and a history one rarely


def test_the_demo_payments_follow_the_prices_in_force_and_the_monthly_cap(db, tz, demo_month):
    subsidy: dict[tuple, int] = {}
    for payment, order in db.execute(select(Payment, Order).join(Order, Order.id == Payment.order_id)):
        day = order.completed_at.astimezone(tz).date()
        assert payment.price_fen == payment.paid_fen + payment.subsidy_fen
        if order.category == "housekeeping":
            assert payment.price_fen == (3000 if (day.month, day.day) < (11, 16) else 3500)
        key = (order.resident_id, day.month)
        subsidy[key] = subsidy.get(key, 0) + payment.subsidy_fen
    assert max(subsidy.values()) == CAP_FEN  # some resident reaches the cap, nobody passes it


def test_a_hardship_resident_pays_nothing_until_the_cap(db, tz, demo_month):
    resident = db.scalar(select(Resident).where(Resident.name == "王凤英"))  # 困难
    first = db.scalar(select(Payment).join(Order, Order.id == Payment.order_id)
                      .where(Order.resident_id == resident.id).order_by(Order.completed_at))
    assert (first.paid_fen, first.subsidy_fen) == (0, first.price_fen)


def test_loading_the_month_twice_adds_nothing(db, tz, demo_month):
    visits = db.scalar(select(func.count(Visit.id)))
    assert load_service_month(db, tz, NOW) == 0
    assert db.scalar(select(func.count(Visit.id))) == visits
