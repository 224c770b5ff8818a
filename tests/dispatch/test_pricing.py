"""The price and the subsidy owed for an order, by the dated rules in force on its local completion day.

All figures are fen; the bureau's day is Asia/Shanghai (UTC+8), so 2026-03-15 23:30 local is 15:30 UTC.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dispatch.pricing import price_order, share_of, yuan
from models import Order, Resident, ServiceProvider, Technician
from models.services import PriceRule, SubsidyRule

TZ = ZoneInfo("Asia/Shanghai")
_codes = iter(range(500000, 599999))


@pytest.fixture
def world(db):
    """Two providers with one technician each; housekeeping costs 30.00元 for everyone from 2026-03-01."""
    a, b = ServiceProvider(name="甲服务社"), ServiceProvider(name="乙家政")
    db.add_all([a, b])
    db.flush()
    tech_a = Technician(name="张师傅", phone="+8613800000001", provider_id=a.id)
    tech_b = Technician(name="李师傅", phone="+8613800000002", provider_id=b.id)
    db.add_all([tech_a, tech_b, PriceRule(category="housekeeping", price_fen=3000, valid_from=date(2026, 3, 1))])
    db.commit()
    return {"a": a, "b": b, "tech_a": tech_a, "tech_b": tech_b}


def _resident(db, **flags) -> Resident:
    row = Resident(name="王秀英", **flags)
    db.add(row)
    db.commit()
    return row


def _subsidy(db, resident_class, share, cap=None, valid_from=date(2026, 3, 1)):
    db.add(SubsidyRule(resident_class=resident_class, share_percent=share, monthly_cap_fen=cap,
                       valid_from=valid_from))
    db.commit()


def _done(db, tech, resident, local: datetime, category="housekeeping") -> Order:
    """A completed order at `local` (Shanghai wall-clock time)."""
    at = local.replace(tzinfo=TZ).astimezone(timezone.utc)
    order = Order(code=str(next(_codes)), category=category, status="completed", technician_id=tech.id,
                  resident_id=resident.id if resident else None, created_at=at - timedelta(hours=1),
                  completed_at=at)
    db.add(order)
    db.commit()
    return order


def _figures(db, order):
    priced = price_order(db, order, TZ)
    return priced.price_fen, priced.subsidy_fen


# --- the price -------------------------------------------------------------------------------------

def test_a_price_change_mid_month_prices_each_order_by_its_local_completion_day(db, world):
    db.add(PriceRule(category="housekeeping", price_fen=4000, valid_from=date(2026, 3, 16)))
    db.commit()
    _subsidy(db, "other", 50)
    resident = _resident(db)
    before = _done(db, world["tech_a"], resident, datetime(2026, 3, 15, 23, 30))  # 15:30 UTC on the 15th
    after = _done(db, world["tech_a"], resident, datetime(2026, 3, 16, 0, 30))    # 16:30 UTC on the 15th, too
    assert _figures(db, before) == (3000, 1500)  # 30.00元 × 50% = 15.00元
    assert _figures(db, after) == (4000, 2000)   # 40.00元 × 50% = 20.00元


def test_a_providers_own_price_beats_the_general_one(db, world):
    db.add(PriceRule(category="housekeeping", provider_id=world["a"].id, price_fen=2500, valid_from=date(2026, 3, 1)))
    db.commit()
    resident = _resident(db)
    assert price_order(db, _done(db, world["tech_a"], resident, datetime(2026, 3, 10, 10)), TZ).price_fen == 2500
    assert price_order(db, _done(db, world["tech_b"], resident, datetime(2026, 3, 10, 11)), TZ).price_fen == 3000


def test_a_providers_price_not_yet_in_force_leaves_the_general_one(db, world):
    db.add(PriceRule(category="housekeeping", provider_id=world["a"].id, price_fen=2500, valid_from=date(2026, 3, 20)))
    db.commit()
    order = _done(db, world["tech_a"], _resident(db), datetime(2026, 3, 10, 10))
    assert price_order(db, order, TZ).price_fen == 3000


def test_a_category_without_a_price_costs_nothing_and_owes_nothing(db, world):
    _subsidy(db, "other", 100)
    priced = price_order(db, _done(db, world["tech_a"], _resident(db), datetime(2026, 3, 10, 10),
                                   category="legal_aid"), TZ)
    assert (priced.price_fen, priced.subsidy_fen, priced.price_rule_id) == (0, 0, None)


# --- the share and the rounding ------------------------------------------------------------------------

def test_a_resident_without_flags_gets_the_other_share(db, world):
    _subsidy(db, "other", 30)
    _subsidy(db, "hardship", 100)
    priced = price_order(db, _done(db, world["tech_a"], _resident(db), datetime(2026, 3, 10, 10)), TZ)
    assert (priced.resident_class, priced.subsidy_fen, priced.resident_owes_fen) == ("other", 900, 2100)  # 30% of 3000


def test_an_unregistered_caller_gets_no_subsidy(db, world):
    _subsidy(db, "other", 100)
    priced = price_order(db, _done(db, world["tech_a"], None, datetime(2026, 3, 10, 10)), TZ)
    assert (priced.price_fen, priced.subsidy_fen, priced.subsidy_rule_id) == (3000, 0, None)


def test_the_share_is_rounded_half_up_to_the_fen():
    assert share_of(1999, 55) == 1099  # 1999 × 55 / 100 = 1099.45 -> 1099
    assert share_of(1990, 55) == 1095  # 1990 × 55 / 100 = 1094.5 -> 1095
    assert share_of(3000, 100) == 3000


def test_yuan_shows_two_decimals():
    assert (yuan(2050), yuan(5), yuan(0), yuan(-120)) == ("20.50元", "0.05元", "0.00元", "-1.20元")


def test_the_most_generous_of_several_classes_applies_until_its_cap_makes_another_better(db, world):
    _subsidy(db, "advanced_age", 80, cap=5000)  # 80% of 3000 = 2400, at most 50.00元 a month
    _subsidy(db, "empty_nest", 60)              # 60% of 3000 = 1800, no cap
    resident = _resident(db, advanced_age=True, empty_nest=True)
    orders = [_done(db, world["tech_a"], resident, datetime(2026, 3, day, 10)) for day in (2, 3, 4)]
    figures = [price_order(db, o, TZ) for o in orders]
    assert [(p.resident_class, p.subsidy_fen) for p in figures] == [
        ("advanced_age", 2400),  # 2400 > 1800
        ("advanced_age", 2400),  # min(2400, 5000 - 2400 = 2600) = 2400 > 1800
        ("empty_nest", 1800),    # advanced age: min(2400, 5000 - 4800 = 200) = 200 < 1800
    ]


# --- the monthly cap --------------------------------------------------------------------------------

def test_the_cap_is_reached_across_several_orders_of_a_month(db, world):
    _subsidy(db, "hardship", 100, cap=8000)  # fully subsidised, at most 80.00元 a month
    resident = _resident(db, hardship=True)
    orders = [_done(db, world["tech_a"], resident, datetime(2026, 3, day, 10)) for day in (5, 12, 19, 26)]
    # 3000, 3000 (6000 so far), min(3000, 8000 - 6000) = 2000, then min(3000, 0) = 0
    assert [_figures(db, o) for o in orders] == [(3000, 3000), (3000, 3000), (3000, 2000), (3000, 0)]


def test_the_cap_counts_orders_in_completion_order_whatever_order_they_are_priced_in(db, world):
    _subsidy(db, "hardship", 100, cap=5000)
    resident = _resident(db, hardship=True)
    first = _done(db, world["tech_a"], resident, datetime(2026, 3, 5, 10))
    second = _done(db, world["tech_a"], resident, datetime(2026, 3, 6, 10))
    assert _figures(db, second) == (3000, 2000)  # 5000 - 3000 owed for the first
    assert _figures(db, first) == (3000, 3000)


def test_a_new_local_month_resets_the_cap(db, world):
    _subsidy(db, "hardship", 100, cap=3000)
    resident = _resident(db, hardship=True)
    march = _done(db, world["tech_a"], resident, datetime(2026, 3, 31, 23, 0))   # 15:00 UTC on the 31st
    late_march = _done(db, world["tech_a"], resident, datetime(2026, 3, 31, 23, 50))
    april = _done(db, world["tech_a"], resident, datetime(2026, 4, 1, 0, 10))    # 16:10 UTC on 31 March
    assert [_figures(db, o) for o in (march, late_march, april)] == [(3000, 3000), (3000, 0), (3000, 3000)]


def test_another_residents_orders_do_not_use_up_the_cap(db, world):
    _subsidy(db, "hardship", 100, cap=3000)
    one, other = _resident(db, hardship=True), _resident(db, hardship=True)
    _done(db, world["tech_a"], one, datetime(2026, 3, 5, 10))
    assert _figures(db, _done(db, world["tech_a"], other, datetime(2026, 3, 6, 10))) == (3000, 3000)


# --- the past stays as it was --------------------------------------------------------------------------

def test_recomputing_a_past_order_after_a_rule_change_gives_the_same_figures(db, world):
    _subsidy(db, "other", 50, cap=10000)
    order = _done(db, world["tech_a"], _resident(db), datetime(2026, 3, 10, 10))
    before = price_order(db, order, TZ)
    db.add_all([PriceRule(category="housekeeping", price_fen=5000, valid_from=date(2026, 4, 1)),
                SubsidyRule(resident_class="other", share_percent=20, monthly_cap_fen=1000,
                            valid_from=date(2026, 4, 1))])
    db.commit()
    assert price_order(db, order, TZ) == before
    assert (before.price_fen, before.subsidy_fen) == (3000, 1500)  # 3000 × 50%
