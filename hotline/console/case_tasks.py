"""The tasks section of a case page: add a task (or the risk level's defaults), reassign, cancel with a reason,
record an outcome. Duty officers and admins only, as every case page; each write is access-logged as
"write:task" and is a case event (dispatch/child_tasks.py). The section itself is templates/console/cases/_tasks.html,
included by the case page, which reads `case_tasks_view(case)`.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from sqlalchemy import select

from dispatch import taxonomy
from dispatch.child_tasks import (
    MAX_OUTCOME,
    add_task,
    cancel_task,
    complete_task,
    open_default_tasks,
    open_tasks,
    reassign_task,
)
from dispatch.jobs import schedule
from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.i18n import current_language, translate
from hotline.params import parse_id
from hotline.registry.csv_rows import CellError, parse_time
from models import TASK_OPEN, Case, CaseStatus, CaseTask, CaseWorker, log_access, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("case_tasks", __name__, url_prefix="/console/cases")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
MAX_DUE_DAYS = 366  # a due time further out is a typo in the year


@bp.app_context_processor
def _helpers():
    return {"case_tasks_view": tasks_view} if request.path.startswith("/console/cases") else {}


def tasks_view(case: Case) -> dict:
    """What the tasks section shows: the tasks, the active workers to choose from, the kinds and labels."""
    lang = current_language()
    workers = list(db.session().scalars(select(CaseWorker).where(CaseWorker.active.is_(True))
                                        .order_by(CaseWorker.township, CaseWorker.village, CaseWorker.name)))
    tz = db.settings().tz
    return {"tasks": list(case.tasks), "open": open_tasks(case), "workers": workers,
            "kinds": [(code, taxonomy.label("task_kinds", code, lang)) for code in taxonomy.codes("task_kinds")],
            "kind_label": lambda code: taxonomy.label("task_kinds", code, lang),
            "role_label": lambda code: taxonomy.label("worker_roles", code, lang),
            "has_defaults": bool(taxonomy.default_tasks(case.risk_level)),
            "unassigned": [t for t in case.tasks if t.status in TASK_OPEN and t.assignee_id is None],
            "overdue": lambda t: t.status in TASK_OPEN and t.due_at <= utcnow(),
            "due_input": lambda t: t.due_at.astimezone(tz).strftime(LOCAL_INPUT), "max_outcome": MAX_OUTCOME}


def _case(code: str) -> Case:
    case = db.session().scalar(select(Case).where(Case.code == code))
    if case is None:
        abort(404)
    return case


def _task(case: Case, task_id: int) -> CaseTask:
    task = db.session().get(CaseTask, task_id)
    if task is None or task.case_id != case.id:
        abort(404)
    return task


def _back(code: str, key: str, category: str = "info", **values):
    flash(translate(key, **values), category)
    return redirect(url_for("casework.detail", code=code) + "#tasks", code=303)


def _worker(raw: str | None, required: bool) -> tuple[CaseWorker | None, str | None]:
    """The chosen active worker, or None for "nobody"; the error key when the choice is not one."""
    if not (raw or "").strip():
        return None, "tasks.err_assignee" if required else None
    worker_id = parse_id(raw)
    found = db.session().get(CaseWorker, worker_id) if worker_id is not None else None
    if found is None or not found.active:
        return None, "tasks.err_assignee"
    return found, None


def _due(raw: str | None, default: datetime | None) -> tuple[datetime | None, str | None]:
    """A local due time from the form (default when blank); the error key when it is not a usable time."""
    text = (raw or "").strip()
    if not text:
        return default, None
    try:
        due = parse_time(text, db.settings().tz)
    except CellError:
        return None, "tasks.err_due"
    now = utcnow()
    if due <= now or due > now + timedelta(days=MAX_DUE_DAYS):
        return None, "tasks.err_due_range"
    return due, None


def _text(field: str) -> str:
    return (request.form.get(field) or "").strip()


def _written(case: Case, work, key: str, **values):
    """Log the write, commit, then queue its work (SMS, overdue rounds)."""
    session = db.session()
    log_access(session, current_user().username, [case.id], request.path, "write:task",
               request.remote_addr or "")
    session.commit()
    schedule(db.queue(), work)
    log.info("case %s: %s by %s", case.code, request.endpoint, current_user().username)
    return _back(case.code, key, **values)


@bp.post("/<code>/tasks")
@roles_required("duty_officer")
def add(code: str):
    """Add a task by hand: a kind, an assignee (or nobody yet), a due time (default: the kind's hours)."""
    case = _case(code)
    if case.status == CaseStatus.CLOSED:
        return _back(code, "tasks.err_closed", "error")
    kind = _text("kind")
    if taxonomy.entry("task_kinds", kind) is None:
        return _back(code, "tasks.err_kind", "error")
    assignee, error = _worker(request.form.get("assignee_id"), required=False)
    now = utcnow()
    due, due_error = _due(request.form.get("due"), now + timedelta(hours=taxonomy.task_hours(kind)))
    if error or due_error or due is None:
        return _back(code, error or due_error or "tasks.err_due", "error")
    _, work = add_task(db.session(), case, kind, assignee, due, current_user().username, db.settings(), now)
    return _written(case, work, "tasks.added")


@bp.post("/<code>/tasks/defaults")
@roles_required("duty_officer")
def defaults(code: str):
    """Open the tasks of the case's risk level that are not open already."""
    case = _case(code)
    if case.status == CaseStatus.CLOSED:
        return _back(code, "tasks.err_closed", "error")
    if not case.risk_level:
        return _back(code, "tasks.err_no_risk", "error")
    work = open_default_tasks(db.session(), case, current_user().username, db.settings(), utcnow())
    if not work:
        db.session().rollback()
        return _back(code, "tasks.defaults_none")
    return _written(case, work, "tasks.defaults_done")


@bp.post("/<code>/tasks/<id:task_id>/reassign")
@roles_required("duty_officer")
def reassign(code: str, task_id: int):
    """Give an open task to another worker and/or a new due time; the SMS go to whom it concerns."""
    case = _case(code)
    task = _task(case, task_id)
    if task.status not in TASK_OPEN:
        return _back(code, "tasks.err_finished", "error")
    assignee, error = _worker(request.form.get("assignee_id"), required=True)
    due, due_error = _due(request.form.get("due"), None)
    if error or due_error:
        return _back(code, error or due_error or "", "error")
    work = reassign_task(db.session(), task, case, assignee, due, current_user().username, db.settings(), utcnow())
    return _written(case, work, "tasks.reassigned")


def _reason(field: str, needed: str):
    text = _text(field)
    if not text:
        return None, needed
    if len(text) > MAX_OUTCOME or "\x00" in text:
        return None, "tasks.err_too_long"
    return text, None


@bp.post("/<code>/tasks/<id:task_id>/cancel")
@roles_required("duty_officer")
def cancel(code: str, task_id: int):
    """Cancel an open task with a reason (required); its worker is told by SMS."""
    case = _case(code)
    task = _task(case, task_id)
    reason, error = _reason("reason", "tasks.err_reason")
    if error or reason is None:
        return _back(code, error or "tasks.err_reason", "error", max=MAX_OUTCOME)
    won, work = cancel_task(db.session(), task, case, reason, current_user().username, db.settings(), utcnow())
    if not won:
        db.session().rollback()
        return _back(code, "tasks.err_finished", "error")
    return _written(case, work, "tasks.cancelled")


@bp.post("/<code>/tasks/<id:task_id>/done")
@roles_required("duty_officer")
def done(code: str, task_id: int):
    """Record an open task's outcome (required): it is done, the overdue alerts stop."""
    case = _case(code)
    task = _task(case, task_id)
    outcome, error = _reason("outcome", "tasks.err_outcome")
    if error or outcome is None:
        return _back(code, error or "tasks.err_outcome", "error", max=MAX_OUTCOME)
    if not complete_task(db.session(), task, case, outcome, current_user().username, utcnow()):
        db.session().rollback()
        return _back(code, "tasks.err_finished", "error")
    return _written(case, [], "tasks.done")
