"""Figures of the child line's casework: contacts by type and category per month, how soon calls were answered
and called back, mandatory police reports, task deadlines and case deadlines.

One rule for the period throughout: it selects the calls (cases) whose call came in during the period, by the
call's start in the bureau's time zone; every figure is about those cases and their tasks, measured at `now`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.police_alerts import report_delay_minutes
from dispatch.taxonomy import codes, counted
from hotline.reports.child import outcome
from hotline.reports.period import DurationStats, Period, minutes_between
from models import Case, CaseCategory, CaseEvent, CaseStatus, CaseTask, TaskStatus, utcnow

UNRECORDED = "unrecorded"  # no intake yet: the contact type column is empty
ANSWER_SECONDS = (20, 60)  # answered within this many seconds of the call's start
TASK_BUCKETS = ("done_on_time", "done_late", "open_overdue", "open_not_due", "cancelled")
_OUTCOME_EVENTS = ("answered", "voicemail", "missed")


@dataclass
class PerMonth:
    """Counts per local month and code: `counts[month][code]`, every month and code present (zeros too)."""

    months: list[str]
    codes: list[str]
    counts: dict[str, dict[str, int]]

    @classmethod
    def empty(cls, months: list[str], keys: list[str]) -> PerMonth:
        """All zeros."""
        return cls(months, keys, {m: dict.fromkeys(keys, 0) for m in months})

    def total(self, code: str) -> int:
        """The count of one code over every month."""
        return sum(self.counts[m][code] for m in self.months)


@dataclass
class CaseworkFigures:
    """The child line's casework figures for the calls of one period, measured at `now`."""

    period: Period
    now: datetime
    calls: int = 0
    contact_types: PerMonth = field(default_factory=lambda: PerMonth([], [], {}))
    counted_per_month: dict[str, int] = field(default_factory=dict)  # contacts about a child (CHI "counted")
    categories: PerMonth = field(default_factory=lambda: PerMonth([], [], {}))
    categorised_per_month: dict[str, int] = field(default_factory=dict)  # cases with at least one category
    answered: int = 0
    answered_within: dict[int, int] = field(default_factory=lambda: dict.fromkeys(ANSWER_SECONDS, 0))
    missed: int = 0
    voicemail: int = 0
    called_back: int = 0
    not_called_back: int = 0
    to_call_back: DurationStats = DurationStats(0, None, None)
    acknowledged: int = 0
    unacknowledged: int = 0
    to_acknowledge: DurationStats = DurationStats(0, None, None)
    police_required: int = 0
    police_reported: int = 0
    police_pending: int = 0  # required and not reported yet
    to_report: DurationStats = DurationStats(0, None, None)
    tasks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TASK_BUCKETS, 0))
    with_deadline: int = 0
    open_past_deadline: int = 0
    open_within_deadline: int = 0
    closed_with_deadline: int = 0

    def share(self, count: int) -> float | None:
        """`count` as a share of the period's calls (None when there were none)."""
        return count / self.calls if self.calls else None


def _events(session: Session, in_period) -> dict[int, set[str]]:
    """The outcome events (answered, voicemail, missed) of each case of the period."""
    kinds: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.kind).join(Case, Case.id == CaseEvent.case_id)
        .where(*in_period, CaseEvent.kind.in_(_OUTCOME_EVENTS)).distinct())
    for case_id, kind in rows:
        kinds[case_id].add(kind)
    return kinds


def _categories(session: Session, in_period) -> dict[int, set[str]]:
    """The top-level categories of each case of the period (two sub-categories of one top level: once)."""
    found: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(CaseCategory.case_id, CaseCategory.category).join(Case, Case.id == CaseCategory.case_id)
        .where(*in_period).distinct())
    for case_id, category in rows:
        found[case_id].add(category)
    return found


def task_bucket(status: str, due_at: datetime, done_at: datetime | None, now: datetime) -> str:
    """Where a task stands: done on time (done_at <= due_at) or late, open and overdue (now > due_at) or
    not yet due, or cancelled."""
    if status == TaskStatus.CANCELLED:
        return "cancelled"
    if status == TaskStatus.DONE and done_at is not None:
        return "done_on_time" if done_at <= due_at else "done_late"
    return "open_overdue" if now > due_at else "open_not_due"


def casework_figures(session: Session, period: Period, now: datetime | None = None) -> CaseworkFigures:
    """The casework figures of the calls (cases) that came in during `period`, measured at `now`.

    Medians and 90th percentiles are in minutes, by linear interpolation (period.percentile).
    """
    now = now or utcnow()
    start, end = period.bounds()
    in_period = (Case.created_at >= start, Case.created_at < end)
    months = period.months()
    figures = CaseworkFigures(period=period, now=now)
    figures.contact_types = PerMonth.empty(months, [*codes("contact_types"), UNRECORDED])
    figures.categories = PerMonth.empty(months, list(codes("categories")))
    figures.counted_per_month = dict.fromkeys(months, 0)
    figures.categorised_per_month = dict.fromkeys(months, 0)
    rows = session.execute(
        select(Case.id, Case.created_at, Case.status, Case.answered_at, Case.recording_url, Case.acknowledged_at,
               Case.contact_type, Case.intake_at, Case.deadline_at, Case.closed_at, Case.called_back_at,
               Case.police_required, Case.police_reported_at).where(*in_period)).all()
    kinds, categories = _events(session, in_period), _categories(session, in_period)
    call_backs: list[float] = []
    acknowledgements: list[float] = []
    reports: list[float] = []
    for row in rows:
        month = period.month_of(row.created_at)
        figures.calls += 1
        _count_contact(figures, month, row.contact_type, categories.get(row.id, set()))
        _count_answer(figures, row, outcome(row.answered_at, row.recording_url, row.status, kinds[row.id]),
                      call_backs, acknowledgements)
        _count_police(figures, row, reports)
        _count_deadline(figures, row, now)
    figures.to_call_back = DurationStats.of(call_backs)
    figures.to_acknowledge = DurationStats.of(acknowledgements)
    figures.to_report = DurationStats.of(reports)
    tasks = session.execute(
        select(CaseTask.status, CaseTask.due_at, CaseTask.done_at).join(Case, Case.id == CaseTask.case_id)
        .where(*in_period))
    for status, due_at, done_at in tasks:
        figures.tasks[task_bucket(status, due_at, done_at, now)] += 1
    return figures


def _count_contact(figures: CaseworkFigures, month: str, contact_type: str | None, categories: set[str]) -> None:
    kind = contact_type if contact_type in figures.contact_types.codes else UNRECORDED
    figures.contact_types.counts[month][kind] += 1
    if counted(contact_type):
        figures.counted_per_month[month] += 1
    # A case in two categories counts once in each: the category columns may add up to more than the cases.
    known = [c for c in categories if c in figures.categories.codes]
    for category in known:
        figures.categories.counts[month][category] += 1
    if known:
        figures.categorised_per_month[month] += 1


def _count_answer(figures: CaseworkFigures, row, what: str, call_backs: list[float],
                  acknowledgements: list[float]) -> None:
    if what == "answered":
        figures.answered += 1
        if row.answered_at is not None:
            seconds = (row.answered_at - row.created_at).total_seconds()
            for limit in ANSWER_SECONDS:
                if seconds <= limit:
                    figures.answered_within[limit] += 1
        return
    if what not in ("voicemail", "missed"):
        return
    setattr(figures, what, getattr(figures, what) + 1)
    back = minutes_between(row.created_at, row.called_back_at)
    if back is None:
        figures.not_called_back += 1
    else:
        figures.called_back += 1
        call_backs.append(back)
    waited = minutes_between(row.created_at, row.acknowledged_at)
    if waited is None:
        figures.unacknowledged += 1
    else:
        figures.acknowledged += 1
        acknowledgements.append(waited)


def _count_police(figures: CaseworkFigures, row, reports: list[float]) -> None:
    if row.police_required:
        figures.police_required += 1
        if row.police_reported_at is None:
            figures.police_pending += 1
    if row.police_reported_at is not None:
        figures.police_reported += 1
        delay = report_delay_minutes(row.intake_at, row.police_reported_at)
        if delay is not None:
            reports.append(delay)


def _count_deadline(figures: CaseworkFigures, row, now: datetime) -> None:
    if row.deadline_at is None:
        return
    figures.with_deadline += 1
    if row.status == CaseStatus.CLOSED or row.closed_at is not None:
        figures.closed_with_deadline += 1
    elif row.deadline_at < now:
        figures.open_past_deadline += 1
    else:
        figures.open_within_deadline += 1

