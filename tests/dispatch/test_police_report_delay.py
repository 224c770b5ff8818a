"""Time from the intake to the police report: a report made before the intake was saved counts as at once.

Found by the casework browser test: the police form's time defaults to now to the minute, so a report recorded
right after the intake showed "-0.5 分钟" on the case page and pulled the report's median below zero.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from dispatch.police_alerts import minutes_to_report, report_delay_minutes
from hotline.reports import Period, casework_figures
from models import Case
from tests.casework_report_rows import SHANGHAI

INTAKE = datetime(2026, 3, 10, 1, 8, 27, tzinfo=timezone.utc)


def test_a_report_after_the_intake_takes_the_minutes_between_them():
    assert report_delay_minutes(INTAKE, INTAKE + timedelta(minutes=42)) == 42.0


def test_a_report_before_the_intake_was_saved_counts_as_made_at_once():
    assert report_delay_minutes(INTAKE, INTAKE - timedelta(seconds=27)) == 0.0


def test_no_delay_until_both_the_intake_and_the_report_are_known():
    assert report_delay_minutes(None, INTAKE) is None and report_delay_minutes(INTAKE, None) is None


def test_the_case_page_shows_zero_minutes_for_a_report_dated_to_the_minute_before_the_intake():
    case = Case(intake_at=INTAKE, police_reported_at=INTAKE.replace(second=0))
    assert minutes_to_report(case) == 0.0


def test_the_reports_median_time_to_report_is_never_negative(db):
    db.add(Case(code="135790", call_sid="CA" + "7" * 32, caller="+8613904761234", status="closed",
                created_at=INTAKE - timedelta(minutes=5), intake_at=INTAKE, police_required=True,
                police_reported_at=INTAKE - timedelta(minutes=3)))
    db.commit()
    figures = casework_figures(db, Period(date(2026, 3, 1), date(2026, 3, 31), SHANGHAI),
                               INTAKE + timedelta(days=1))
    assert (figures.to_report.count, figures.to_report.median) == (1, 0.0)
