"""Figures of the child-protection line: what happened to each call, and how soon the unanswered were acknowledged."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.reports.period import DurationStats, Period, minutes_between
from models import Case, CaseEvent, CaseStatus

# What happened to a call, in order of precedence. "other": still ringing, or closed with no outcome recorded.
OUTCOMES = ("answered", "voicemail", "missed", "other")
_OUTCOME_EVENTS = ("answered", "voicemail", "missed")


@dataclass
class ChildFigures:
    """The child line's figures for one period."""

    period: Period
    calls: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    # Voicemail and missed calls: those a duty officer has acknowledged, and those still waiting.
    acknowledged: int = 0
    unacknowledged: int = 0
    to_acknowledge: DurationStats = DurationStats(0, None, None)


def outcome(answered_at, recording_url: str | None, status: str, kinds: set[str]) -> str:
    """What happened to the call, whatever its status now (acknowledged and closed cases keep their outcome).

    An officer pressing 1 makes it answered; else a recorded message makes it voicemail; else the caller
    hanging up before an answer makes it missed. The case's events keep this after the status moves on.
    """
    if answered_at is not None or "answered" in kinds or status == CaseStatus.ANSWERED:
        return "answered"
    if recording_url or "voicemail" in kinds or status == CaseStatus.VOICEMAIL:
        return "voicemail"
    if "missed" in kinds or status == CaseStatus.MISSED:
        return "missed"
    return "other"


def child_figures(session: Session, period: Period) -> ChildFigures:
    """The child line's figures for the calls (cases) that came in during `period`.

    Minutes to acknowledgement run from the call's arrival to the first acknowledgement, over the
    voicemail and missed calls that were acknowledged (answered calls need none); median and 90th
    percentile by linear interpolation.
    """
    start, end = period.bounds()
    in_period = (Case.created_at >= start, Case.created_at < end)
    rows = session.execute(
        select(Case.id, Case.created_at, Case.answered_at, Case.recording_url, Case.status, Case.acknowledged_at)
        .where(*in_period)
    ).all()
    kinds: dict[int, set[str]] = defaultdict(set)
    events = session.execute(
        select(CaseEvent.case_id, CaseEvent.kind).join(Case, Case.id == CaseEvent.case_id)
        .where(*in_period, CaseEvent.kind.in_(_OUTCOME_EVENTS)).distinct()
    )
    for case_id, kind in events:
        kinds[case_id].add(kind)
    figures = ChildFigures(period=period)
    waits = []
    for row in rows:
        what = outcome(row.answered_at, row.recording_url, row.status, kinds[row.id])
        figures.calls += 1
        figures.outcomes[what] += 1
        if what in ("voicemail", "missed"):
            wait = minutes_between(row.created_at, row.acknowledged_at)
            if wait is None:
                figures.unacknowledged += 1
            else:
                figures.acknowledged += 1
                waits.append(wait)
    figures.to_acknowledge = DurationStats.of(waits)
    return figures
