"""The child line's casework vocabularies as data (child_cases.json): contact types, categories, risk levels and
what each sets in motion, task kinds, worker roles; labels in zh-CN and en.

Read once, on first use (never at import). Every rule a case depends on is copied onto the case when it is
recorded (its deadline, whether a police report is required), so editing the file does not rewrite the past.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FILE = Path(__file__).with_name("child_cases.json")
LANGS = ("zh-CN", "en")


@cache
def taxonomy() -> dict[str, Any]:
    """The whole file, parsed (cached: the file is read once per process)."""
    return json.loads(FILE.read_text(encoding="utf-8"))


def entries(kind: str) -> list[dict[str, Any]]:
    """The entries of one vocabulary (`contact_types`, `categories`, `risk_levels`, `task_kinds`, ...)."""
    return taxonomy()[kind]


def codes(kind: str) -> tuple[str, ...]:
    """The codes of one vocabulary, in the file's order."""
    return tuple(e["code"] for e in entries(kind))


def entry(kind: str, code: str | None) -> dict[str, Any] | None:
    """The entry with this code, or None."""
    return next((e for e in entries(kind) if e["code"] == code), None)


def label(kind: str, code: str | None, lang: str = "zh-CN") -> str:
    """The label of a code in `lang` (zh-CN when the language is unknown); the code itself when not found."""
    found = entry(kind, code)
    if found is None:
        return code or ""
    return found.get(lang) or found["zh-CN"]


def sub_entry(category: str, sub: str) -> dict[str, Any] | None:
    """The sub-category entry of a top-level category, or None."""
    top = entry("categories", category)
    return next((s for s in (top or {}).get("subs", []) if s["code"] == sub), None)


def category_label(category: str, sub: str = "", lang: str = "zh-CN") -> str:
    """`暴力侵害 / 身体暴力`: the top level, and the sub-category when there is one."""
    top = label("categories", category, lang)
    found = sub_entry(category, sub) if sub else None
    return f"{top} / {found.get(lang) or found['zh-CN']}" if found else top


def valid_category(category: str, sub: str = "") -> bool:
    """Whether (category, sub) is in the taxonomy; an empty sub is always allowed for a known category."""
    if entry("categories", category) is None:
        return False
    return not sub or sub_entry(category, sub) is not None


def counted(contact_type: str | None) -> bool:
    """Whether a contact type counts as a contact about a child (CHI: counted vs. not counted)."""
    found = entry("contact_types", contact_type)
    return bool(found and found.get("counted"))


def mandatory_report(categories: list[tuple[str, str]]) -> bool:
    """Whether any (category, sub) requires mandatory reporting to the police (强制报告)."""
    for category, sub in categories:
        top = entry("categories", category) or {}
        found = sub_entry(category, sub) if sub else None
        if top.get("mandatory_report") or (found and found.get("mandatory_report")):
            return True
    return False


def police_required(risk_level: str | None, categories: list[tuple[str, str]]) -> bool:
    """A critical case, or one whose categories require mandatory reporting, needs a police-report record."""
    risk = entry("risk_levels", risk_level) or {}
    return bool(risk.get("police_report")) or mandatory_report(categories)


def case_deadline_hours(risk_level: str | None) -> int | None:
    """Hours from intake by which a case of this risk level should be closed (None: no risk level)."""
    risk = entry("risk_levels", risk_level)
    return int(risk["case_deadline_hours"]) if risk else None


def default_tasks(risk_level: str | None) -> list[dict[str, Any]]:
    """The tasks a risk level sets in motion: [{"kind", "due_hours", "role"}], in the file's order."""
    risk = entry("risk_levels", risk_level)
    return list(risk.get("tasks", [])) if risk else []


def task_hours(kind: str) -> int:
    """The default hours to do a task of this kind when the officer does not give a due time."""
    found = entry("task_kinds", kind) or {}
    return int(found.get("default_hours", 72))
