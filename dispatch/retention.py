"""Retention of child-line cases: a case closed more than N years ago keeps its figures, not its people.

PIPL asks that sensitive personal information be kept no longer than needed. A case closed before the cutoff
loses every free text (its note, summary, events' details, task outcomes, the police report's number), the
caller's number (on the case, its call record and in the SMS sent about it) and its recording; its children
lose their name, school and village, and an exact age becomes its age band. What the reports count stays:
dates, status, contact type, risk level, categories, sex, age band, township, tasks and their times.
Anonymised cases are stamped (`anonymised_at`) and never touched again, so a second run does nothing.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from dispatch import taxonomy
from models import CallLog, Case, CaseStatus, Message, log_access
from models.phone import mask_text

ACTOR = "retention"
ACTION = "anonymise"


@dataclass
class Anonymised:
    """What a run did (or, dry, would do): cases and children, and the cases by the year they were closed."""

    cutoff: datetime
    cases: int = 0
    children: int = 0
    by_year: Counter[int] = field(default_factory=Counter)
    case_ids: list[int] = field(default_factory=list)


def retention_cutoff(now: datetime, years: int) -> datetime:
    """The moment `years` calendar years before `now` (29 February falls back to the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def age_band(age: int | None) -> str:
    """The taxonomy's age band an age falls in ("" when there is none)."""
    if age is None:
        return ""
    for band in taxonomy.taxonomy()["age_bands"]:
        low, _, high = band.partition("-")
        if int(low) <= age <= int(high or low):
            return band
    return ""


def due_cases(session: Session, cutoff: datetime) -> list[Case]:
    """Closed cases closed before `cutoff` and not yet anonymised, oldest first."""
    return list(session.scalars(
        select(Case).where(Case.status == CaseStatus.CLOSED, Case.closed_at < cutoff, Case.anonymised_at.is_(None))
        .options(selectinload(Case.children), selectinload(Case.events), selectinload(Case.tasks))
        .order_by(Case.closed_at, Case.id)))


def _wipe(session: Session, case: Case, now: datetime) -> None:
    case.note = case.summary = case.police_report_no = ""
    case.caller, case.recording_url, case.anonymised_at = "", None, now
    for event in case.events:
        event.detail = ""
    for task in case.tasks:
        task.outcome = ""
    for child in case.children:
        child.age_band = child.age_band or age_band(child.age)
        child.name = child.school = child.village = ""
        child.age, child.anonymised_at = None, now
    # The caller's number is also on the call's record and may be in an alert's text (the call-back number).
    session.execute(update(CallLog).where(CallLog.call_sid == case.call_sid)
                    .values(from_phone="", recording_url=None).execution_options(synchronize_session=False))
    for message in session.scalars(select(Message).where(Message.case_id == case.id)):
        message.body = mask_text(message.body)


def anonymise_cases(session: Session, now: datetime, years: int, dry_run: bool = False,
                    route: str = "flask anonymise-cases") -> Anonymised:
    """Anonymise every case closed more than `years` years before `now`; one access-log row per case.

    Idempotent: anonymised cases are skipped. With `dry_run` nothing changes and nothing is logged; the
    result says what would be done (caller commits)."""
    result = Anonymised(cutoff=retention_cutoff(now, years))
    for case in due_cases(session, result.cutoff):
        result.cases += 1
        result.children += len(case.children)
        result.by_year[case.closed_at.year if case.closed_at else 0] += 1
        result.case_ids.append(case.id)
        if not dry_run:
            _wipe(session, case, now)
    if not dry_run:
        log_access(session, ACTOR, result.case_ids, route, ACTION, at=now)
    return result
