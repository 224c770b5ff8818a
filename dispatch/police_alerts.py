"""Mandatory reporting (强制报告): a case that requires a police report alerts the supervisors, round after round
(SMS, then also calls), until a console user records the report (who reported, when, to which station, its number).

The rounds work as the child line's acknowledgement alerts do (dispatch/case_alerts.py), with their own state on
the case (police_alert_round, police_next_alert_at) and their own job kind (deferred.POLICE_ALERT). No text names a
child: an alert carries the case code and "需报警" only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from models import Case, case_event, log_access, supervisors

from . import deferred
from .deferred import Work
from .outbox import queue_message
from .settings import DispatchSettings
from .texts import render
from .voice_messages import spoken_notification

log = logging.getLogger(__name__)
LIMITS = {"reporter": 100, "station": 200, "report_no": 100}
CLOCK_SKEW = timedelta(minutes=5)  # a report "in the future" by less than this is the officer's clock


def police_pending(case: Case) -> bool:
    """Whether the case needs a police report that nobody has recorded yet."""
    return bool(case.police_required) and case.police_recorded_at is None


def start_police_alerts(session: Session, case: Case, settings: DispatchSettings, now: datetime) -> Work:
    """The first round for a case whose report is pending; nothing when rounds run already (caller commits)."""
    if not police_pending(case) or case.police_alert_round > 0:
        return []
    return _send_round(session, case, 1, settings, now)


def police_alert(session: Session, case_id: int, round_no: int, settings: DispatchSettings, now: datetime) -> Work:
    """Send round `round_no` unless the report was recorded or the round already went out; idempotent."""
    case = session.get(Case, case_id, with_for_update=True)
    if case is None or not police_pending(case) or case.police_alert_round >= round_no:
        return []
    if case.police_next_alert_at is not None and now < case.police_next_alert_at:  # early: come back on time
        return [deferred.police_alert(case.id, round_no, case.police_next_alert_at)]
    return _send_round(session, case, round_no, settings, now)


def _send_round(session: Session, case: Case, round_no: int, settings: DispatchSettings, now: datetime) -> Work:
    lang = settings.ivr_language
    body = render(lang, "police_alert", code=case.code)
    follow: Work = []
    people = supervisors(session)
    for sup in people:
        msg = queue_message(session, f"police-alert:{case.id}:{round_no}:{sup.id}", sup.phone, body, case_id=case.id)
        follow.append(deferred.send(msg.id))
    calls = 0
    if round_no > settings.alert_max_repeats:
        sentence = render(lang, "police_call", digits=" ".join(case.code))
        for sup in people:
            msg = queue_message(session, f"police-call:{case.id}:{round_no}:{sup.id}", sup.phone,
                                spoken_notification(lang, sentence), channel="call", case_id=case.id)
            follow.append(deferred.send(msg.id))
            calls += 1
    case.police_alert_round = round_no
    case.police_next_alert_at = now + timedelta(seconds=settings.alert_repeat_seconds)
    follow.append(deferred.police_alert(case.id, round_no + 1, case.police_next_alert_at))
    case_event(session, case, "police_alert",
               render(lang, "police_alert_event", round=round_no, sms=len(people), calls=calls))
    if not people:
        log.error("case %s needs a police report but no supervisor is registered", case.code)
    log.info("case %s police-report alert round %d to %d supervisor(s)", case.code, round_no, len(people))
    return follow


@dataclass(frozen=True)
class PoliceReport:
    """A police report as the officer recorded it: who reported, when (UTC), to which station, its number."""

    reporter: str
    reported_at: datetime | None
    station: str
    report_no: str


def check_report(case: Case, report: PoliceReport, now: datetime) -> list[str]:
    """The problems refusing a report record, as `intake.*` text keys (none = it may be recorded)."""
    problems = []
    for name, limit in LIMITS.items():
        value = getattr(report, name).strip()
        if not value:
            problems.append(f"intake.err_police_{name}")
        elif len(value) > limit:
            problems.append(f"intake.err_police_{name}_long")
    at = report.reported_at
    if at is None:
        problems.append("intake.err_police_reported_at")
    elif at > now + CLOCK_SKEW or at < case.created_at - CLOCK_SKEW:
        problems.append("intake.err_police_reported_at_range")
    return problems


def record_police_report(session: Session, case: Case, report: PoliceReport, actor: str, now: datetime,
                         settings: DispatchSettings, route: str = "", remote_addr: str = "") -> list[str]:
    """Record the case's police report once: its alert rounds stop. Returns the problems (nothing written when
    there are any: a bad field, a closed case, a report recorded before, by another officer too) (caller commits)."""
    if case.closed_at is not None:
        return ["intake.err_police_closed"]
    if case.police_recorded_at is not None:
        return ["intake.err_police_already"]
    problems = check_report(case, report, now)
    if problems:
        return problems
    values = {name: getattr(report, name).strip() for name in LIMITS}
    # Conditional, so two officers recording at once cannot both write: the second is told it is done.
    won = cast(CursorResult, session.execute(
        update(Case).where(Case.id == case.id, Case.police_recorded_at.is_(None))
        .values(police_reporter=values["reporter"], police_station=values["station"],
                police_report_no=values["report_no"], police_reported_at=report.reported_at,
                police_recorded_at=now, police_recorded_by=actor[:100], police_next_alert_at=None)
        .execution_options(synchronize_session=False))).rowcount == 1
    if not won:
        return ["intake.err_police_already"]
    session.refresh(case)
    detail = render(settings.ivr_language, "police_event", station=values["station"], number=values["report_no"],
                    reporter=values["reporter"])
    case_event(session, case, "police", detail, actor=actor)
    log_access(session, actor, [case.id], route or "police", "write:police", remote_addr, at=now)
    log.info("case %s: police report recorded", case.code)
    return []


def report_delay_minutes(intake_at: datetime | None, reported_at: datetime | None) -> float | None:
    """Minutes from the intake to the police report, None until both are known; never negative: an officer who
    phoned the police during the call and saved the intake after (or took the form's default time, to the
    minute) reported at once."""
    if intake_at is None or reported_at is None:
        return None
    return max(0.0, (reported_at - intake_at).total_seconds() / 60)


def minutes_to_report(case: Case) -> float | None:
    """The case's intake-to-report time as the case page shows it (to a tenth of a minute)."""
    delay = report_delay_minutes(case.intake_at, case.police_reported_at)
    return None if delay is None else round(delay, 1)


def overdue_police_alerts(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: the next round of every case whose police report is pending and whose round is due."""
    return [deferred.police_alert(case_id, done + 1, cast(datetime, at)) for case_id, done, at in session.execute(
        select(Case.id, Case.police_alert_round, Case.police_next_alert_at)
        .where(Case.police_required.is_(True), Case.police_recorded_at.is_(None),
               Case.police_next_alert_at <= now))]
