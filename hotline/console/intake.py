"""A case's casework in the console: the intake form, the call-back stamp, the police report, links between cases.

Duty officers and admins only. The rules are dispatch's (dispatch/intake.py, police_alerts.py, case_links.py);
this module parses the request, commits, then schedules the work a save left (the police-report alert rounds).
Every write is access-logged by dispatch; reading the form is logged as "read"; refused requests write nothing.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch import taxonomy
from dispatch.case_links import earlier_contacts, link_cases, linked_cases, unlink_cases
from dispatch.intake import (
    INTAKE_ALLOWED,
    MAX_CHILDREN,
    MAX_SUMMARY,
    Refused,
    close_refusal,
    record_call_back,
    record_intake,
)
from dispatch.jobs import schedule
from dispatch.police_alerts import minutes_to_report, police_pending, record_police_report
from hotline import db
from hotline.console import intake_forms
from hotline.console.auth import current_user, roles_required
from hotline.console.clock import local_time
from hotline.console.i18n import current_language, translate
from models import CHILD_FLAGS, Case, CaseStatus, log_access, utcnow

bp = Blueprint("intake", __name__, url_prefix="/console/cases")
MAX_CODE = 8
BLANK_ROWS = 3


def _case(code: str) -> Case:
    if len(code) > MAX_CODE:
        abort(404)
    case = db.session().scalar(select(Case).where(Case.code == code)
                               .options(selectinload(Case.children), selectinload(Case.categories)))
    if case is None:
        abort(404)
    return case


def _actor() -> str:
    return current_user().username


def _where() -> dict:
    return {"route": request.path, "remote_addr": request.remote_addr or ""}


def _back(case: Case, key: str, category: str = "ok", **values):
    flash(translate(key, **values), category)
    return redirect(url_for("casework.detail", code=case.code), code=303)


def _values(problem) -> dict:
    """A problem's values for its text: a case status shown by its name."""
    values = dict(problem.values)
    if "status" in values:
        values["status"] = translate(f"cases.status_{values['status']}")
    return values


def _problem_texts(problems) -> list[str]:
    return [translate(p.key, **_values(p)) for p in problems]


def _form_page(case: Case, form, errors: list[str], status: int = 200):
    lang = current_language()
    children = [child for child in form.children if not child.is_blank()]
    # Room for one more child, and for three when none is recorded yet (a form row left blank is no child).
    blanks = min(MAX_CHILDREN - len(children), max(1, BLANK_ROWS - len(children)))
    rows = children + [intake_forms.ChildForm()] * blanks
    return render_template(
        "console/cases/intake.html", case=case, form=form, errors=errors, child_rows=rows,
        chosen={intake_forms.category_value(c, s) for c, s in form.categories},
        contact_types=[(code, lbl, taxonomy.counted(code)) for code, lbl in intake_forms.choices("contact_types",
                                                                                                lang)],
        risks=intake_forms.risk_help(lang), categories=intake_forms.category_choices(lang),
        sexes=intake_forms.choices("sexes", lang), living=intake_forms.choices("living", lang),
        age_bands=taxonomy.taxonomy()["age_bands"], flags=CHILD_FLAGS, max_summary=MAX_SUMMARY,
        editable=case.status in INTAKE_ALLOWED), status


@bp.get("/<code>/intake")
@roles_required("duty_officer")
def intake_page(code: str):
    """The intake form of a case, filled with its saved intake; the view is access-logged."""
    case = _case(code)
    log_access(db.session(), _actor(), [case.id], request.path, "read", request.remote_addr or "")
    db.session().commit()
    return _form_page(case, intake_forms.form_of_case(case), [])


@bp.post("/<code>/intake")
@roles_required("duty_officer")
def save_intake(code: str):
    """Save or correct the intake; refused (the form again with its errors, nothing saved) when it is not valid."""
    case = _case(code)
    form = intake_forms.intake_form(request.form)
    session = db.session()
    try:
        follow = record_intake(session, case, form, _actor(), db.settings(), utcnow(), **_where())
    except Refused as refused:
        session.rollback()
        return _form_page(_case(code), form, _problem_texts(refused.problems), 422)
    session.commit()
    schedule(db.queue(), follow)
    return _back(case, "intake.saved")


@bp.post("/<code>/callback")
@roles_required("duty_officer")
def called_back(code: str):
    """Stamp that the caller of a message or missed call was called back (once, after acknowledgement)."""
    case = _case(code)
    session = db.session()
    try:
        record_call_back(session, case, _actor(), utcnow(), **_where())
    except Refused as refused:
        session.rollback()
        return _back(case, refused.problems[0].key, "error", **_values(refused.problems[0]))
    session.commit()
    return _back(case, "intake.callback_done")


@bp.post("/<code>/police")
@roles_required("duty_officer")
def police(code: str):
    """Record the case's police report (强制报告): the supervisors' alert rounds stop."""
    case = _case(code)
    session = db.session()
    report = intake_forms.police_form(request.form, db.settings().tz)
    problems = record_police_report(session, case, report, _actor(), utcnow(), db.settings(), **_where())
    if problems:
        session.rollback()
        flash(" ".join(translate(key) for key in problems), "error")
        return redirect(url_for("casework.detail", code=case.code), code=303)
    session.commit()
    return _back(case, "intake.police_done")


def _other(raw: str | None) -> Case | None:
    code = (raw or "").strip()
    if not code or len(code) > MAX_CODE:
        return None
    return db.session().scalar(select(Case).where(Case.code == code))


def _link_action(code: str, action, done_key: str):
    case = _case(code)
    session = db.session()
    other = _other(request.form.get("other"))
    refusal = action(session, case, other, _actor(), db.settings().ivr_language, utcnow(), **_where())
    if refusal:
        session.rollback()
        return _back(case, refusal, "error")
    session.commit()
    return _back(case, done_key, code=other.code if other else "")


@bp.post("/<code>/links")
@roles_required("duty_officer")
def link(code: str):
    """Link this case and another (by its code) as the same child."""
    return _link_action(code, link_cases, "intake.link_done")


@bp.post("/<code>/unlink")
@roles_required("duty_officer")
def unlink(code: str):
    """Remove the link between this case and another."""
    return _link_action(code, unlink_cases, "intake.unlink_done")


def case_panel(case: Case) -> dict:
    """What the case page shows of the casework: the intake with labels, the police report, repeat contacts and
    links (for the detail route's template; the detail's own access-log row covers this read)."""
    lang = current_language()
    session = db.session()
    return {
        "intake_lang": lang,
        "intake_label": lambda kind, code: taxonomy.label(kind, code, lang),
        "category_label": lambda c: taxonomy.category_label(c.category, c.sub, lang),
        "police_pending": police_pending(case),
        "minutes_to_report": minutes_to_report(case),
        "earlier": earlier_contacts(session, case),
        "linked": linked_cases(session, case),
        "close_refusal": close_refusal(case),
        "can_intake": case.status in INTAKE_ALLOWED,
        "can_callback": case.status == CaseStatus.ACKNOWLEDGED and case.called_back_at is None,
        "can_police": case.closed_at is None and case.police_recorded_at is None,
        "police_default_at": local_time(utcnow(), intake_forms.LOCAL_INPUT),
    }
