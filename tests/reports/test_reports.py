"""Report figures against the hand-built orders and cases of tests/report_rows.py, checked by hand here."""
from __future__ import annotations

from datetime import date

import pytest

from hotline.reports import Period, child_figures, default_period, elderly_figures, parse_period, percentile
from tests.report_rows import SHANGHAI, add_cases, add_orders

MARCH_APRIL = Period(date(2026, 3, 1), date(2026, 4, 30), SHANGHAI)


@pytest.fixture
def orders(db):
    add_orders(db)
    return db


@pytest.fixture
def cases(db):
    add_cases(db)
    return db


def test_percentile_interpolates_linearly_between_closest_ranks():
    # [1, 2, 3, 4]: median at h = 3 * 0.5 = 1.5 -> 2 + 0.5 * (3 - 2) = 2.5; p90 at h = 2.7 -> 3 + 0.7 * 1 = 3.7
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile([4, 1, 3, 2], 0.9) == pytest.approx(3.7)
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.5) is None


def test_orders_per_category_per_month_follow_the_local_month(orders):
    fig = elderly_figures(orders, MARCH_APRIL, 15)
    assert fig.months == ["2026-03", "2026-04"]
    # March: O1 daily_care; O2 housekeeping; O3 housekeeping (03-31 23:30 local, 15:30 UTC: March both ways).
    assert fig.per_month["2026-03"] == {"daily_care": 1, "housekeeping": 2, "companionship": 0, "legal_aid": 0,
                                        "emergency": 0}
    # April: O4 emergency (04-01 00:30 local although UTC is still 03-31 16:30); O5 companionship;
    # O6 and O8 daily_care; O7 legal_aid; O9 housekeeping. O0 (Feb) and O10 (May) are outside.
    assert fig.per_month["2026-04"] == {"daily_care": 2, "housekeeping": 1, "companionship": 1, "legal_aid": 1,
                                        "emergency": 1}
    assert fig.orders == 9  # O1..O9


def test_a_range_ending_on_march_31_keeps_the_late_evening_order_and_not_the_after_midnight_one(orders):
    march = elderly_figures(orders, Period(date(2026, 3, 1), date(2026, 3, 31), SHANGHAI), 15)
    april_first = elderly_figures(orders, Period(date(2026, 4, 1), date(2026, 4, 1), SHANGHAI), 15)
    assert march.orders == 3                                  # O1, O2, O3
    assert march.per_month["2026-03"]["emergency"] == 0       # O4 is April's
    assert april_first.orders == 1 and april_first.per_month["2026-04"]["emergency"] == 1


def test_on_site_share_counts_arrivals_within_15_minutes_of_creation(orders):
    fig = elderly_figures(orders, MARCH_APRIL, 15)
    # Base: O1..O9 except O7 (cancelled before anyone arrived) = 8; O8 (cancelled after arrival) stays in.
    # Within 15 min: O1 10, O2 15 (the limit counts), O4 8, O8 12 = 4. Late: O3 20, O5 25, O6 30, O9 never.
    assert (fig.on_site_counted, fig.on_site_within) == (8, 4)
    assert fig.on_site_share == 0.5


def test_the_sla_minutes_setting_moves_the_line(orders):
    # With 10 minutes: O1 10 and O4 8 are within; O2 15 and O8 12 are not -> 2 of 8.
    assert elderly_figures(orders, MARCH_APRIL, 10).on_site_within == 2


def test_medians_and_90th_percentiles_of_accept_arrive_complete(orders):
    fig = elderly_figures(orders, MARCH_APRIL, 15)
    # Accept (O1..O6, O8): sorted [1, 2, 3, 4, 6, 10, 12], n = 7.
    #   median: h = 6 * 0.5 = 3 -> 4.   p90: h = 6 * 0.9 = 5.4 -> 10 + 0.4 * (12 - 10) = 10.8
    assert (fig.accept.count, fig.accept.median) == (7, 4)
    assert fig.accept.p90 == pytest.approx(10.8)
    # Arrive (O1..O6, O8): sorted [8, 10, 12, 15, 20, 25, 30].
    #   median: h = 3 -> 15.   p90: h = 5.4 -> 25 + 0.4 * (30 - 25) = 27
    assert (fig.arrive.count, fig.arrive.median) == (7, 15)
    assert fig.arrive.p90 == pytest.approx(27)
    # Complete (O1..O5): sorted [30, 40, 60, 90, 120], n = 5.
    #   median: h = 4 * 0.5 = 2 -> 60.   p90: h = 4 * 0.9 = 3.6 -> 90 + 0.6 * (120 - 90) = 108
    assert (fig.complete.count, fig.complete.median) == (5, 60)
    assert fig.complete.p90 == pytest.approx(108)


def test_escalations_count_orders_ever_escalated(orders):
    fig = elderly_figures(orders, MARCH_APRIL, 15)
    # O6 (escalated, later accepted by hand) and O7 (escalated, then cancelled), both April.
    assert fig.escalated == 2
    assert fig.escalated_per_month == {"2026-03": 0, "2026-04": 2}


def test_satisfaction_counts_ratings_and_callbacks_without_a_rating(orders):
    fig = elderly_figures(orders, MARCH_APRIL, 15)
    # O1 rated 1, O2 rated 2, O3 rated 3; O4 was called back but pressed nothing; O5 not called.
    assert fig.ratings == {1: 1, 2: 1, 3: 1}
    assert fig.no_answer == 1
    assert fig.satisfied_share == pytest.approx(1 / 3)


def test_services_provided_are_completed_orders_in_range_and_all_time(orders):
    fig = elderly_figures(orders, MARCH_APRIL, 15)
    assert fig.completed == 5             # O1..O5
    assert fig.completed_all_time == 7    # plus O0 (February) and O10 (May)
    assert fig.cancelled == 2             # O7, O8


def test_child_line_calls_by_what_happened_even_after_acknowledgement(cases):
    fig = child_figures(cases, MARCH_APRIL)
    # C1 answered (now closed); C2 voicemail (now acknowledged); C5 missed then left a message -> voicemail;
    # C3 missed (now closed), C4 missed; C6 still ringing. C7 (May) is outside.
    assert fig.calls == 6
    assert fig.outcomes == {"answered": 1, "voicemail": 2, "missed": 2, "other": 1}
    assert (fig.acknowledged, fig.unacknowledged) == (3, 1)   # C2, C3, C5 acknowledged; C4 waits


def test_child_line_median_minutes_to_acknowledgement(cases):
    fig = child_figures(cases, MARCH_APRIL)
    # Acknowledged after C3 4, C2 12, C5 30 -> median 12; p90: h = 2 * 0.9 = 1.8 -> 12 + 0.8 * (30 - 12) = 26.4
    assert fig.to_acknowledge.median == 12
    assert fig.to_acknowledge.p90 == pytest.approx(26.4)


def test_a_child_call_just_after_local_midnight_belongs_to_the_new_day(cases):
    # C3 came at 04-01 00:20 local (03-31 16:20 UTC): not March's.
    march = child_figures(cases, Period(date(2026, 3, 1), date(2026, 3, 31), SHANGHAI))
    assert march.outcomes == {"answered": 1, "voicemail": 1, "missed": 0, "other": 0}


def test_an_empty_range_gives_zeros_and_no_figures(orders, cases):
    period = Period(date(2025, 1, 1), date(2025, 1, 31), SHANGHAI)
    fig, child = elderly_figures(orders, period, 15), child_figures(orders, period)
    assert fig.orders == 0 and fig.per_month == {"2025-01": dict.fromkeys(fig.categories, 0)}
    assert fig.on_site_share is None and fig.satisfied_share is None
    assert (fig.accept.count, fig.accept.median, fig.accept.p90) == (0, None, None)
    assert fig.completed == 0 and fig.completed_all_time == 7
    assert child.calls == 0 and child.to_acknowledge.median is None


def test_the_default_period_is_the_last_twelve_months_to_today():
    period = default_period(date(2026, 4, 15), SHANGHAI)
    assert (period.first, period.last) == (date(2025, 5, 1), date(2026, 4, 15))
    assert len(period.months()) == 12


@pytest.mark.parametrize("first,last,error", [
    ("2026-13-01", "2026-04-30", "bad_date"),
    ("yesterday", "", "bad_date"),
    ("20260301", "2026-04-30", "bad_date"),
    ("2026-05-01", "2026-04-30", "reversed"),
    ("2000-01-01", "2026-04-30", "too_long"),
])
def test_a_bad_range_falls_back_to_the_default_with_a_reason(first, last, error):
    period, problem = parse_period(first, last, date(2026, 4, 15), SHANGHAI)
    assert problem == error
    assert period == default_period(date(2026, 4, 15), SHANGHAI)


def test_a_good_range_is_taken_as_given():
    period, problem = parse_period("2026-03-01", "2026-04-30", date(2026, 4, 15), SHANGHAI)
    assert (period, problem) == (MARCH_APRIL, None)
