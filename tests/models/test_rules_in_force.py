"""Which price and subsidy rule settles a visit on a given local day: the newest rule started by then, a
provider's own price over the general one, nothing before the first rule, and a change mid-month splitting the
month at its day."""
from __future__ import annotations

from datetime import date

import pytest

from models import PriceRule, ServiceProvider, SubsidyRule, price_in_force, subsidy_in_force


@pytest.fixture
def rules(db):
    kangle, aixin = ServiceProvider(name="康乐家政"), ServiceProvider(name="爱心养老服务中心")
    db.add_all([kangle, aixin])
    db.flush()
    db.add_all([
        PriceRule(category="housekeeping", price_fen=3000, min_minutes=60, valid_from=date(2026, 1, 1)),
        PriceRule(category="housekeeping", price_fen=3500, min_minutes=60, valid_from=date(2026, 3, 16)),
        PriceRule(category="housekeeping", provider_id=kangle.id, price_fen=2800, min_minutes=45,
                  valid_from=date(2026, 2, 1)),
        PriceRule(category="daily_care", price_fen=2000, min_minutes=30, valid_from=date(2026, 1, 1)),
        SubsidyRule(resident_class="other", share_percent=50, monthly_cap_fen=20000, valid_from=date(2026, 1, 1)),
        SubsidyRule(resident_class="other", share_percent=40, monthly_cap_fen=15000, valid_from=date(2026, 3, 16)),
        SubsidyRule(resident_class="hardship", share_percent=100, monthly_cap_fen=None, valid_from=date(2026, 1, 1)),
    ])
    db.commit()
    return {"kangle": kangle.id, "aixin": aixin.id}


def price(db, category: str, provider_id, day: date) -> int | None:
    rule = price_in_force(db, category, provider_id, day)
    return rule.price_fen if rule is not None else None


def test_a_providers_own_price_beats_the_general_one(db, rules):
    assert price(db, "housekeeping", rules["kangle"], date(2026, 2, 10)) == 2800


def test_a_provider_without_its_own_price_pays_the_general_one(db, rules):
    assert price(db, "housekeeping", rules["aixin"], date(2026, 2, 10)) == 3000


def test_no_provider_means_the_general_price(db, rules):
    assert price(db, "housekeeping", None, date(2026, 2, 10)) == 3000


def test_the_providers_own_price_starts_on_its_day_and_the_general_one_applies_before(db, rules):
    assert price(db, "housekeeping", rules["kangle"], date(2026, 1, 31)) == 3000
    assert price(db, "housekeeping", rules["kangle"], date(2026, 2, 1)) == 2800


def test_the_providers_own_price_still_beats_a_newer_general_price(db, rules):
    assert price(db, "housekeeping", rules["kangle"], date(2026, 3, 20)) == 2800


def test_a_price_change_mid_month_splits_the_month_at_its_day(db, rules):
    assert price(db, "housekeeping", rules["aixin"], date(2026, 3, 15)) == 3000
    assert price(db, "housekeeping", rules["aixin"], date(2026, 3, 16)) == 3500
    assert price(db, "housekeeping", rules["aixin"], date(2026, 3, 31)) == 3500


def test_the_minimum_length_comes_with_the_rule_in_force(db, rules):
    assert price_in_force(db, "housekeeping", rules["kangle"], date(2026, 2, 10)).min_minutes == 45
    assert price_in_force(db, "housekeeping", rules["aixin"], date(2026, 2, 10)).min_minutes == 60


def test_a_day_before_any_price_has_none(db, rules):
    assert price(db, "housekeeping", rules["kangle"], date(2025, 12, 31)) is None


def test_a_category_without_any_price_has_none(db, rules):
    assert price(db, "legal_aid", None, date(2026, 6, 1)) is None


def test_a_subsidy_change_mid_month_splits_the_month_at_its_day(db, rules):
    before, after = subsidy_in_force(db, "other", date(2026, 3, 15)), subsidy_in_force(db, "other", date(2026, 3, 16))
    assert (before.share_percent, before.monthly_cap_fen) == (50, 20000)
    assert (after.share_percent, after.monthly_cap_fen) == (40, 15000)


def test_a_subsidy_rule_without_a_cap_has_none(db, rules):
    assert subsidy_in_force(db, "hardship", date(2026, 6, 1)).monthly_cap_fen is None


def test_a_day_before_any_subsidy_rule_has_none(db, rules):
    assert subsidy_in_force(db, "other", date(2025, 12, 31)) is None


def test_a_class_without_a_rule_has_none(db, rules):
    assert subsidy_in_force(db, "empty_nest", date(2026, 6, 1)) is None
