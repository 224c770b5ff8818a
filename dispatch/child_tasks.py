"""Casework tasks of a child-line case: who does them, the SMS that sends them, and their moves.

A task goes to a case worker (models.CaseWorker) by SMS without the child's name: the case code, what, by when,
the child line's number to call and how to reply. Its status moves by models.lifecycle.TASK_TRANSITIONS; every
move is a case event here, and the caller writes the access-log row (console: the request's path; SMS: "sms")
and commits. Overdue alerts are dispatch/task_overdue.py; replies by SMS are dispatch/task_replies.py.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from models import TASK_OPEN, TASK_TRANSITIONS, Case, CaseTask, CaseWorker, TaskStatus, case_event
from models.lifecycle import guarded_update
from models.phone import mask, national

from . import deferred, taxonomy
from .deferred import Work
from .outbox import queue_message
from .settings import DispatchSettings
from .texts import CATALOGUES, ZH, render

log = logging.getLogger(__name__)
SHORT_DUE = "%m-%d %H:%M"  # an SMS is short: month-day hour:minute, local
MAX_OUTCOME = 2000


def open_tasks(case: Case) -> list[CaseTask]:
    """The case's tasks still to do (open or acknowledged): the case may close only when this is empty."""
    return [task for task in case.tasks if task.status in TASK_OPEN]


def child_place(case: Case) -> tuple[str, str]:
    """(township, village) of the first child of the case who has a township; ("", "") when none has."""
    for child in case.children:
        if child.township:
            return child.township, child.village
    return "", ""


def _active(session: Session, role: str, township: str, village: str | None = None) -> CaseWorker | None:
    query = select(CaseWorker).where(CaseWorker.active.is_(True), CaseWorker.role == role,
                                     CaseWorker.township == township)
    if village is not None:
        query = query.where(CaseWorker.village == village)
    return session.scalars(query.order_by(CaseWorker.id).limit(1)).first()


def find_assignee(session: Session, role: str, township: str, village: str) -> CaseWorker | None:
    """The active worker of `role` for the place: a 儿童主任 of the village (else the township's 儿童督导员),
    a 儿童督导员 of the township, a partner of the township; None when there is none (or no township)."""
    if not township:
        return None
    if role == "child_director":
        found = _active(session, role, township, village) if village else None
        return found or _active(session, "child_supervisor", township)
    return _active(session, role, township)


def local_due(at: datetime, settings: DispatchSettings) -> str:
    """A due time as an SMS shows it: local, short."""
    return at.astimezone(settings.tz).strftime(SHORT_DUE)


def kind_name(language: str, kind: str) -> str:
    """A task kind's short SMS name (the taxonomy's label when the catalogue has none)."""
    return CATALOGUES.get(language, ZH)["task_kind"].get(kind) or taxonomy.label("task_kinds", kind, language)


def task_sms(task: CaseTask, case: Case, settings: DispatchSettings) -> str:
    """The task's SMS: case code, what, by when, the child line's number, how to reply (no child's name)."""
    lang = settings.ivr_language
    return render(lang, "task_sms", code=case.code, kind=kind_name(lang, task.kind),
                  due=local_due(task.due_at, settings), phone=national(settings.child_number) or "-")


def _send(session: Session, task: CaseTask, case: Case, worker: CaseWorker, body: str, purpose: str,
          now: datetime) -> Work:
    msg = queue_message(session, f"{purpose}:{task.id}:{worker.id}:{int(now.timestamp())}", worker.phone, body,
                        case_id=case.id)
    return [deferred.send(msg.id)]


def send_task(session: Session, task: CaseTask, case: Case, settings: DispatchSettings, now: datetime) -> Work:
    """Queue the task's SMS to its assignee (none when unassigned); stamps sent_at (caller commits)."""
    if task.assignee is None:
        return []
    task.sent_at = now
    log.info("case %s task %d sent to case worker %d (%s)", case.code, task.id, task.assignee.id,
             mask(task.assignee.phone))
    return _send(session, task, case, task.assignee, task_sms(task, case, settings), "task", now)


def _detail(task: CaseTask, settings: DispatchSettings) -> str:
    who = task.assignee.name if task.assignee is not None else render(settings.ivr_language, "task_overdue_nobody")
    return (f"#{task.id} {taxonomy.label('task_kinds', task.kind, settings.ivr_language)} · {who} · "
            f"{local_due(task.due_at, settings)}")


def add_task(session: Session, case: Case, kind: str, assignee: CaseWorker | None, due_at: datetime, actor: str,
             settings: DispatchSettings, now: datetime) -> tuple[CaseTask, Work]:
    """A new open task, sent to its assignee if it has one; its overdue alert waits for `due_at` (caller commits)."""
    if taxonomy.entry("task_kinds", kind) is None:
        raise ValueError(f"unknown task kind {kind!r}")
    task = CaseTask(case_id=case.id, kind=kind, assignee=assignee, status=TASK_TRANSITIONS[TaskStatus.OPEN].to,
                    due_at=due_at, created_at=now, created_by=actor[:100], next_overdue_at=due_at)
    case.tasks.append(task)
    session.flush()
    case_event(session, case, TASK_TRANSITIONS[TaskStatus.OPEN].event, _detail(task, settings), actor=actor)
    work = send_task(session, task, case, settings, now)
    return task, work + [deferred.task_overdue(task.id, 1, due_at)]


def open_default_tasks(session: Session, case: Case, actor: str, settings: DispatchSettings, now: datetime) -> Work:
    """The tasks of the case's risk level (taxonomy), each to the active worker of its role for the child's
    place; a kind already open on the case is not opened again. A task with nobody found stays unassigned."""
    township, village = child_place(case)
    already = {task.kind for task in open_tasks(case)}
    work: Work = []
    for spec in taxonomy.default_tasks(case.risk_level):
        if spec["kind"] in already:
            continue
        assignee = find_assignee(session, spec["role"], township, village)
        due = now + timedelta(hours=int(spec["due_hours"]))
        work += add_task(session, case, spec["kind"], assignee, due, actor, settings, now)[1]
        already.add(spec["kind"])
    return work


def reassign_task(session: Session, task: CaseTask, case: Case, assignee: CaseWorker | None,
                  due_at: datetime | None, actor: str, settings: DispatchSettings, now: datetime) -> Work:
    """Give an open task to another worker and/or a new due time: the old assignee is told it is off, the new
    one gets the task; a new due time restarts the overdue rounds (caller commits)."""
    if task.status not in TASK_OPEN:
        raise ValueError("only an open task can be reassigned")
    work: Work = []
    lang = settings.ivr_language
    old = task.assignee
    if old is not None and (assignee is None or assignee.id != old.id):
        body = render(lang, "task_cancelled_sms", code=case.code, kind=kind_name(lang, task.kind))
        work += _send(session, task, case, old, body, "task-off", now)
    changed_worker = (old.id if old else None) != (assignee.id if assignee else None)
    task.assignee = assignee
    if due_at is not None and due_at != task.due_at:
        task.due_at, task.overdue_round, task.next_overdue_at = due_at, 0, due_at
        work.append(deferred.task_overdue(task.id, 1, due_at))
    if changed_worker:
        # A new assignment, not a move back: the new worker has not acknowledged it (TASK_TRANSITIONS moves
        # a task forward only; this resets the assignment the acknowledgement was about).
        task.status, task.acknowledged_at = TaskStatus.OPEN.value, None
    if assignee is not None:
        work += send_task(session, task, case, settings, now)
    case_event(session, case, "task:reassigned", _detail(task, settings), actor=actor)
    return work


def _move(session: Session, task: CaseTask, to: TaskStatus, now: datetime, **values) -> bool:
    """Make one guarded move of TASK_TRANSITIONS; False when the task was not in a source status (a race lost)."""
    transition = TASK_TRANSITIONS[to]
    won = cast(CursorResult, session.execute(
        guarded_update(cast(Table, CaseTask.__table__), transition, task.id, now).values(**values)
        .execution_options(synchronize_session=False))).rowcount == 1
    session.refresh(task)
    return won


def acknowledge_task(session: Session, task: CaseTask, case: Case, actor: str, now: datetime) -> bool:
    """The assignee says they have it; False when it was acknowledged or finished before (caller commits)."""
    if not _move(session, task, TaskStatus.ACKNOWLEDGED, now):
        return False
    case_event(session, case, TASK_TRANSITIONS[TaskStatus.ACKNOWLEDGED].event, f"#{task.id}", actor=actor)
    return True


def complete_task(session: Session, task: CaseTask, case: Case, outcome: str, actor: str, now: datetime) -> bool:
    """Record the task done with what was done; the overdue alerts stop. False when it was finished already."""
    if not _move(session, task, TaskStatus.DONE, now, outcome=outcome[:MAX_OUTCOME], finished_by=actor[:100],
                 next_overdue_at=None):
        return False
    case_event(session, case, TASK_TRANSITIONS[TaskStatus.DONE].event, f"#{task.id} {outcome[:200]}", actor=actor)
    return True


def cancel_task(session: Session, task: CaseTask, case: Case, reason: str, actor: str,
                settings: DispatchSettings, now: datetime) -> tuple[bool, Work]:
    """Cancel an open task with a reason; its assignee is told it is off (caller commits)."""
    if not _move(session, task, TaskStatus.CANCELLED, now, outcome=reason[:MAX_OUTCOME], finished_by=actor[:100],
                 next_overdue_at=None):
        return False, []
    case_event(session, case, TASK_TRANSITIONS[TaskStatus.CANCELLED].event, f"#{task.id} {reason[:200]}",
               actor=actor)
    work: Work = []
    if task.assignee is not None and task.sent_at is not None:
        lang = settings.ivr_language
        body = render(lang, "task_cancelled_sms", code=case.code, kind=kind_name(lang, task.kind))
        work = _send(session, task, case, task.assignee, body, "task-off", now)
    return True, work
