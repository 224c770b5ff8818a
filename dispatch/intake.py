"""Intake of a child-line case: what the officer learned on the call (contact type, children, categories, summary,
risk level), validated against the taxonomy and saved on the case; the call-back stamp; and the rule of closing.

Errors are text keys of the console's intake page (`intake.*`) with their values: the console shows them, a CLI
or API could translate them too. Nothing is written when any check fails. Every function leaves the commit to
the caller and returns its deferred work (`Work`), to be scheduled after the commit.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from models import (
    CASE_CLOSABLE,
    CHILD_FLAGS,
    LIVING,
    SEXES,
    Case,
    CaseCategory,
    CaseChild,
    CaseStatus,
    case_event,
    log_access,
)

from . import taxonomy
from .child_tasks import open_default_tasks, open_tasks
from .deferred import Work
from .police_alerts import start_police_alerts
from .settings import DispatchSettings
from .texts import render

MAX_CHILDREN = 10
MAX_SUMMARY = 4000
MAX_AGE = 17  # the line is for minors (under 18)
TEXT_LIMITS = {"name": 100, "township": 100, "village": 100, "school": 200}
_AGE = re.compile(r"[0-9]{1,2}")
# Allowed once a person has dealt with the call; corrected until the case is closed.
INTAKE_ALLOWED = CASE_CLOSABLE


@dataclass(frozen=True)
class Problem:
    """One reason an input was refused: a console text key (`intake.*`) and the values it names."""

    key: str
    values: dict = field(default_factory=dict)


class Refused(Exception):
    """The input was refused for these problems; nothing was written."""

    def __init__(self, problems: list[Problem]):
        super().__init__(", ".join(p.key for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class ChildForm:
    """One child as the officer typed it (text as given; the age as typed, checked here)."""

    name: str = ""
    sex: str = "unknown"
    age: str = ""
    age_band: str = ""
    township: str = ""
    village: str = ""
    school: str = ""
    living: str = "unknown"
    flags: frozenset[str] = frozenset()

    def is_blank(self) -> bool:
        """Nothing typed or chosen: a form's empty row, not a child."""
        return not (self.name.strip() or self.age.strip() or self.age_band or self.township.strip()
                    or self.village.strip() or self.school.strip() or self.flags
                    or self.sex not in ("", "unknown") or self.living not in ("", "unknown"))


@dataclass(frozen=True)
class IntakeForm:
    """An intake as submitted: codes of the taxonomy, the children, (category, sub) pairs and the summary."""

    contact_type: str = ""
    risk_level: str = ""
    summary: str = ""
    children: tuple[ChildForm, ...] = ()
    categories: tuple[tuple[str, str], ...] = ()


def check_intake(form: IntakeForm) -> tuple[list[CaseChild], list[tuple[str, str]], list[Problem]]:
    """The children and categories an intake would save, and the problems refusing it (none = it may be saved)."""
    problems: list[Problem] = []
    if taxonomy.entry("contact_types", form.contact_type) is None:
        problems.append(Problem("intake.err_contact_type"))
    if form.risk_level and taxonomy.entry("risk_levels", form.risk_level) is None:
        problems.append(Problem("intake.err_risk_level"))
    if len(form.summary) > MAX_SUMMARY:
        problems.append(Problem("intake.err_summary_long", {"max": MAX_SUMMARY}))
    categories: list[tuple[str, str]] = []
    for category, sub in form.categories:
        if not taxonomy.valid_category(category, sub):
            problems.append(Problem("intake.err_category"))
        elif (category, sub) not in categories:
            categories.append((category, sub))
    given = [child for child in form.children if not child.is_blank()]
    if len(given) > MAX_CHILDREN:
        problems.append(Problem("intake.err_too_many_children", {"max": MAX_CHILDREN}))
    children = []
    for number, child in enumerate(given[:MAX_CHILDREN], start=1):
        row, child_problems = _check_child(child, number)
        children.append(row)
        problems += child_problems
    if taxonomy.counted(form.contact_type):
        if not form.risk_level:
            problems.append(Problem("intake.err_needs_risk_level"))
        if not categories:
            problems.append(Problem("intake.err_needs_category"))
        if not given:
            problems.append(Problem("intake.err_needs_child"))
    return children, categories, problems


def _check_child(child: ChildForm, number: int) -> tuple[CaseChild, list[Problem]]:
    problems: list[Problem] = []
    texts = {name: getattr(child, name).strip() for name in TEXT_LIMITS}
    for name, limit in TEXT_LIMITS.items():
        if len(texts[name]) > limit:
            problems.append(Problem(f"intake.err_child_{name}_long", {"n": number, "max": limit}))
    age = None
    raw_age = child.age.strip()
    if raw_age:
        if _AGE.fullmatch(raw_age) and int(raw_age) <= MAX_AGE:
            age = int(raw_age)
        else:
            problems.append(Problem("intake.err_child_age", {"n": number, "max": MAX_AGE}))
    sex = child.sex or "unknown"
    if sex not in SEXES:
        problems.append(Problem("intake.err_child_sex", {"n": number}))
    living = child.living or "unknown"
    if living not in LIVING:
        problems.append(Problem("intake.err_child_living", {"n": number}))
    if child.age_band and child.age_band not in taxonomy.taxonomy()["age_bands"]:
        problems.append(Problem("intake.err_child_age_band", {"n": number}))
    if not child.flags <= set(CHILD_FLAGS):
        problems.append(Problem("intake.err_child_flag", {"n": number}))
    row = CaseChild(sex=sex, age=age, age_band=child.age_band, living=living,
                    **{name: texts[name][:TEXT_LIMITS[name]] for name in TEXT_LIMITS},
                    **{flag: flag in child.flags for flag in CHILD_FLAGS})
    return row, problems


def record_intake(session: Session, case: Case, form: IntakeForm, actor: str, settings: DispatchSettings,
                  now: datetime, route: str = "", remote_addr: str = "") -> Work:
    """Save (or correct) the intake of an answered or acknowledged case; Refused (nothing written) otherwise.

    A second save replaces the children and categories. The rules the case depends on are copied onto it now:
    whether a police report is required (never cleared by a correction: the duty stands once it arose) and the
    deadline (from the first intake). A police report still missing starts the supervisors' alert rounds."""
    if case.status not in INTAKE_ALLOWED:
        raise Refused([Problem("intake.err_case_state", {"status": case.status})])
    children, categories, problems = check_intake(form)
    if problems:
        raise Refused(problems)
    first = case.intake_at is None
    risk_before = case.risk_level
    case.children.clear()
    case.categories.clear()
    session.flush()  # the old rows go before the new ones (a category may come back under the same unique key)
    case.children.extend(children)
    case.categories.extend(CaseCategory(category=c, sub=s) for c, s in categories)
    case.contact_type = form.contact_type
    case.risk_level = form.risk_level or None
    case.summary = form.summary.strip()
    if first:
        case.intake_at = now
    case.intake_by = actor[:100]
    hours = taxonomy.case_deadline_hours(case.risk_level)
    case.deadline_at = case.intake_at + timedelta(hours=hours) if hours and case.intake_at else None
    case.police_required = case.police_required or taxonomy.police_required(case.risk_level, categories)
    case_event(session, case, "intake", _detail(case, categories, settings.ivr_language, first), actor=actor)
    log_access(session, actor, [case.id], route or "intake", "write:intake", remote_addr, at=now)
    # The risk level's default tasks when it is first set or changed: a correction of other fields must not
    # send a second home visit after the first one was done.
    follow = open_default_tasks(session, case, actor, settings, now) if first or case.risk_level != risk_before else []
    follow += start_police_alerts(session, case, settings, now)
    return follow


def _detail(case: Case, categories: list[tuple[str, str]], lang: str, first: bool) -> str:
    """The intake event's text: codes' labels and counts, never a child's name or the summary."""
    parts = [taxonomy.label("contact_types", case.contact_type, lang)]
    if case.risk_level:
        parts.append(taxonomy.label("risk_levels", case.risk_level, lang))
    parts += [taxonomy.category_label(c, s, lang) for c, s in categories]
    parts.append(render(lang, "intake_children", n=len(case.children)))
    if case.police_required:
        parts.append(render(lang, "intake_police_required"))
    if not first:
        parts.insert(0, render(lang, "intake_corrected"))
    return "; ".join(parts)


def record_call_back(session: Session, case: Case, actor: str, now: datetime, route: str = "",
                     remote_addr: str = "") -> None:
    """Stamp the call-back of a message or missed call once it is acknowledged (first time only; caller commits)."""
    if case.status != CaseStatus.ACKNOWLEDGED:
        raise Refused([Problem("intake.err_callback_state", {"status": case.status})])
    if case.called_back_at is not None:
        raise Refused([Problem("intake.err_callback_done")])
    case.called_back_at = now
    case.called_back_by = actor[:100]
    case_event(session, case, "called_back", "", actor=actor)
    log_access(session, actor, [case.id], route or "callback", "write:callback", remote_addr, at=now)


# --- closing ----------------------------------------------------------------------------------------------

def _no_intake(case: Case) -> str | None:
    return "intake.close_no_intake" if not case.contact_type else None


def _police_report_missing(case: Case) -> str | None:
    return "intake.close_police_missing" if case.police_required and case.police_recorded_at is None else None


def _tasks_open(case: Case) -> str | None:
    return "intake.close_tasks_open" if open_tasks(case) else None


# Each rule returns the text key refusing the close, or None. Add a rule to the list to add a condition.
CLOSE_RULES: list[Callable[[Case], str | None]] = [_no_intake, _police_report_missing, _tasks_open]


def close_refusal(case: Case) -> str | None:
    """Why this case may not be closed yet (a console text key), or None when it may."""
    for rule in CLOSE_RULES:
        key = rule(case)
        if key is not None:
            return key
    return None
