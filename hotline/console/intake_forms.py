"""The intake page's forms: request fields into dispatch's inputs, and the taxonomy as choices with labels.

Parsing only: the checks are dispatch.intake's and dispatch.police_alerts' (one set of rules for every path).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from werkzeug.datastructures import MultiDict

from dispatch import taxonomy
from dispatch.intake import MAX_CHILDREN, ChildForm, IntakeForm
from dispatch.police_alerts import PoliceReport
from models import CHILD_FLAGS, Case

LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
CHILD_FIELDS = ("name", "sex", "age", "age_band", "township", "village", "school", "living")


def _text(form: MultiDict, name: str) -> str:
    return (form.get(name) or "").strip()


def intake_form(form: MultiDict) -> IntakeForm:
    """The intake as submitted; rows beyond MAX_CHILDREN + 1 are never rendered, so never read."""
    children = []
    for i in range(MAX_CHILDREN + 1):
        prefix = f"child-{i}-"
        if not any(key.startswith(prefix) for key in form):
            continue
        values = {name: _text(form, prefix + name) for name in CHILD_FIELDS}
        children.append(ChildForm(**values, flags=frozenset(form.getlist(prefix + "flag"))))
    categories = []
    for raw in form.getlist("category"):
        top, _, sub = raw.partition("/")
        categories.append((top.strip(), sub.strip()))
    return IntakeForm(contact_type=_text(form, "contact_type"), risk_level=_text(form, "risk_level"),
                      summary=(form.get("summary") or "").strip(), children=tuple(children),
                      categories=tuple(categories))


def form_of_case(case: Case) -> IntakeForm:
    """What the form shows for a case: its saved intake (empty before the first)."""
    children = tuple(ChildForm(name=c.name, sex=c.sex, age="" if c.age is None else str(c.age), age_band=c.age_band,
                               township=c.township, village=c.village, school=c.school, living=c.living,
                               flags=frozenset(f for f in CHILD_FLAGS if getattr(c, f)))
                     for c in case.children)
    return IntakeForm(contact_type=case.contact_type or "", risk_level=case.risk_level or "", summary=case.summary,
                      children=children, categories=tuple((c.category, c.sub) for c in case.categories))


def local_moment(raw: str | None, tz) -> datetime | None:
    """A datetime-local field (the bureau's zone) as UTC; None when empty or malformed."""
    try:
        return datetime.strptime((raw or "").strip(), LOCAL_INPUT).replace(tzinfo=tz).astimezone(timezone.utc)
    except ValueError:
        return None


def police_form(form: MultiDict, tz) -> PoliceReport:
    """The police report as submitted."""
    return PoliceReport(reporter=_text(form, "reporter"), reported_at=local_moment(form.get("reported_at"), tz),
                        station=_text(form, "station"), report_no=_text(form, "report_no"))


def choices(kind: str, lang: str) -> list[tuple[str, str]]:
    """(code, label) of one vocabulary, in the file's order."""
    return [(code, taxonomy.label(kind, code, lang)) for code in taxonomy.codes(kind)]


def category_choices(lang: str) -> list[dict[str, Any]]:
    """Each top-level category with its checkboxes: one per sub-category, or the top level itself when it has none."""
    result = []
    for top in taxonomy.entries("categories"):
        subs = top.get("subs") or []
        boxes = [(f"{top['code']}/{s['code']}", s.get(lang) or s["zh-CN"], bool(s.get("mandatory_report")))
                 for s in subs] or [(top["code"], top.get(lang) or top["zh-CN"], bool(top.get("mandatory_report")))]
        result.append({"code": top["code"], "label": top.get(lang) or top["zh-CN"], "boxes": boxes})
    return result


def risk_help(lang: str) -> list[dict[str, Any]]:
    """What each risk level sets in motion: a police report, the case deadline, the default tasks."""
    result = []
    for risk in taxonomy.entries("risk_levels"):
        tasks = [{"kind": taxonomy.label("task_kinds", t["kind"], lang), "hours": t["due_hours"],
                  "role": taxonomy.label("worker_roles", t["role"], lang)} for t in risk.get("tasks", [])]
        result.append({"code": risk["code"], "label": risk.get(lang) or risk["zh-CN"],
                       "police": bool(risk.get("police_report")), "hours": risk["case_deadline_hours"],
                       "tasks": tasks})
    return result


def category_value(category: str, sub: str) -> str:
    """The checkbox value of a (category, sub) pair."""
    return f"{category}/{sub}" if sub else category
