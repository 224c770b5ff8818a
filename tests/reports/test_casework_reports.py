"""Casework report figures against the hand-built cases A0-A9 of tests/casework_report_rows.py, checked by hand.

The period is March-April 2026 in Asia/Shanghai: A1..A8 are in it (8 calls); A0 (Feb 28 23:59) and A9
(May 1 06:00, still April 30 in UTC) are not. NOW is 2026-05-10 12:00.
"""
from __future__ import annotations

from datetime import date

import pytest

from hotline.reports import Period, casework_figures
from hotline.reports.casework import task_bucket
from tests.casework_report_rows import NOW, SHANGHAI, add_casework, local

MARCH_APRIL = Period(date(2026, 3, 1), date(2026, 4, 30), SHANGHAI)


@pytest.fixture
def fig(db):
    add_casework(db)
    return casework_figures(db, MARCH_APRIL, NOW)


def test_the_period_selects_the_calls_by_their_local_day(fig):
    # A1..A8; A0 is February's; A9 is May's although UTC still says April 30 22:00.
    assert fig.calls == 8


def test_contacts_per_month_by_type_follow_the_local_month(fig):
    march, april = fig.contact_types.counts["2026-03"], fig.contact_types.counts["2026-04"]
    # March: A1 child_self (00:10 local on Mar 1, Feb 28 in UTC), A2 adult_about_child, A3 silent,
    #        A4 child_self (Mar 31 23:50 local) -> 2 + 1 + 1 = 4.
    assert (march["child_self"], march["adult_about_child"], march["silent"], march["unrecorded"]) == (2, 1, 1, 0)
    assert sum(march.values()) == 4
    # April: A5 adult_about_child (Apr 1 07:30 local, Mar 31 in UTC), A6 no intake, A7 information, A8 child_self.
    assert (april["child_self"], april["adult_about_child"], april["information"], april["unrecorded"]) == (1, 1, 1, 1)
    assert sum(april.values()) == 4


def test_counted_contacts_are_those_about_a_child(fig):
    # child_self and adult_about_child count; silent, information and no intake do not.
    # March: A1, A2, A4 = 3.  April: A5, A8 = 2.
    assert fig.counted_per_month == {"2026-03": 3, "2026-04": 2}


def test_a_case_with_two_categories_counts_in_both_and_a_top_level_once(fig):
    march, april = fig.categories.counts["2026-03"], fig.categories.counts["2026-04"]
    # March: A1 violence (physical and emotional: one top level, once) and family; A2 school; A4 mental_health.
    assert {c: n for c, n in march.items() if n} == {"violence": 1, "family": 1, "school": 1, "mental_health": 1}
    # April: A5 violence and missing; A8 violence.
    assert {c: n for c, n in april.items() if n} == {"violence": 2, "missing": 1}
    # Cases with a category: March A1, A2, A4 = 3 (4 category counts); April A5, A8 = 2 (3 counts).
    assert fig.categorised_per_month == {"2026-03": 3, "2026-04": 2}
    assert fig.categories.total("violence") == 3


def test_answered_within_20_and_60_seconds_of_the_calls_start(fig):
    # Answered: A1 15 s, A2 45 s, A3 90 s, A8 20 s (the limit counts) = 4 of 8 calls.
    # Within 20 s: A1, A8 = 2 -> 2/8 = 25%.  Within 60 s: A1, A2, A8 = 3 -> 3/8 = 37.5%.
    assert fig.answered == 4
    assert fig.answered_within == {20: 2, 60: 3}
    assert (fig.share(2), fig.share(3)) == (0.25, 0.375)


def test_abandoned_before_an_answer_and_voicemail(fig):
    # Missed: A4, A6.  Voicemail: A5, A7.  Each 2 of 8 = 25%.
    assert (fig.missed, fig.voicemail) == (2, 2)
    assert fig.share(fig.missed) == 0.25


def test_time_from_a_message_or_missed_call_to_the_call_back(fig):
    # Called back: A4 10, A5 30, A7 60 minutes; A6 never.  Sorted [10, 30, 60], n = 3:
    #   median h = 2 * 0.5 = 1 -> 30.   p90 h = 2 * 0.9 = 1.8 -> 30 + 0.8 * (60 - 30) = 54.
    assert (fig.called_back, fig.not_called_back) == (3, 1)
    assert (fig.to_call_back.count, fig.to_call_back.median) == (3, 30)
    assert fig.to_call_back.p90 == pytest.approx(54)


def test_time_to_acknowledgement(fig):
    # Acknowledged: A4 4, A5 20, A7 50 minutes; A6 still waiting.  Sorted [4, 20, 50]:
    #   median -> 20.   p90 h = 1.8 -> 20 + 0.8 * (50 - 20) = 44.
    assert (fig.acknowledged, fig.unacknowledged) == (3, 1)
    assert fig.to_acknowledge.median == 20
    assert fig.to_acknowledge.p90 == pytest.approx(44)


def test_mandatory_reports_made_and_the_time_from_intake_to_report(fig):
    # Required: A1, A4, A5, A8 = 4 (A9 is May's).  Reported: A1, A4, A8 = 3; A5 still pending.
    # Intake -> report: A1 30, A4 90, A8 15 minutes.  Sorted [15, 30, 90]:
    #   median -> 30.   p90 h = 1.8 -> 30 + 0.8 * (90 - 30) = 78.
    assert (fig.police_required, fig.police_reported, fig.police_pending) == (4, 3, 1)
    assert fig.to_report.median == 30
    assert fig.to_report.p90 == pytest.approx(78)


def test_tasks_done_on_time_late_open_overdue_and_not_yet_due(fig):
    # On time: A1 (20 h of 24), A7 (done at the due minute).  Late: A2 (80 h of 72).
    # Open and overdue at NOW: A4's home visit (due 04-01), A5's acknowledged referral (due 05-01).
    # Open, not yet due: A5's home visit (due 05-20).  Cancelled: A4's relief.  A9's overdue task is May's.
    assert fig.tasks == {"done_on_time": 2, "done_late": 1, "open_overdue": 2, "open_not_due": 1, "cancelled": 1}


def test_cases_open_past_their_deadline(fig):
    # With a deadline: A1, A2, A4, A5, A7, A8 = 6 (A3, A6: no intake risk).  Closed: A1, A4, A8.
    # Open past the deadline at NOW: A2 (03-17), A5 (04-04).  Open within it: A7 (05-20).  A9 is May's.
    assert fig.with_deadline == 6
    assert (fig.open_past_deadline, fig.open_within_deadline, fig.closed_with_deadline) == (2, 1, 3)


def test_a_deadline_still_ahead_is_not_overdue_earlier(db):
    add_casework(db)
    # On 2026-03-17 09:00 A2's deadline (09:05) is still five minutes away; A1 was closed before its own.
    early = casework_figures(db, MARCH_APRIL, local("2026-03-17 09:00"))
    assert (early.open_past_deadline, early.open_within_deadline) == (0, 3)  # A2, A5, A7 (in the future)


def test_april_first_alone_holds_the_early_morning_call_and_not_the_late_evening_one(db):
    add_casework(db)
    first = casework_figures(db, Period(date(2026, 4, 1), date(2026, 4, 1), SHANGHAI), NOW)
    # A5 (07:30 local, still Mar 31 in UTC) only; A4 (Mar 31 23:50 local, 15:50 UTC) is March 31's.
    assert first.calls == 1 and first.voicemail == 1 and first.missed == 0
    assert first.contact_types.counts["2026-04"]["adult_about_child"] == 1


def test_an_empty_period_has_no_figures(db):
    add_casework(db)
    empty = casework_figures(db, Period(date(2025, 1, 1), date(2025, 1, 31), SHANGHAI), NOW)
    assert empty.calls == 0 and empty.share(0) is None
    assert empty.to_call_back.median is None and empty.to_report.p90 is None
    assert set(empty.tasks.values()) == {0}


def test_a_task_done_after_its_due_minute_is_late():
    due = local("2026-04-27 10:00")
    assert task_bucket("done", due, local("2026-04-27 10:00"), NOW) == "done_on_time"
    assert task_bucket("done", due, local("2026-04-27 10:01"), NOW) == "done_late"
    assert task_bucket("open", due, None, local("2026-04-27 10:00")) == "open_not_due"
    assert task_bucket("acknowledged", due, None, local("2026-04-27 10:01")) == "open_overdue"
