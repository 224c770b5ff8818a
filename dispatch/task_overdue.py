"""Overdue casework tasks: at its due time an open task alerts the child line's duty officers (round 1); still
open TASK_ESCALATE_SECONDS later, the supervisors and the township's 儿童督导员 (round 2). Done or cancelled
stops them. The state is on the task (overdue_round, next_overdue_at), so the reconciler can rebuild the queue.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import TASK_OPEN, Case, CaseTask, CaseWorker, case_event, escalation_chain, supervisors

from . import deferred
from .child_tasks import child_place, kind_name, local_due
from .deferred import Work
from .event_details import detail as event_detail
from .outbox import queue_message
from .settings import DispatchSettings
from .texts import render

log = logging.getLogger(__name__)
LAST_ROUND = 2


def _recipients(session: Session, case: Case, task: CaseTask, round_no: int, now: datetime) -> list[tuple[str, str]]:
    """(key part, phone) of whom round `round_no` alerts: the first tier on the child line now (the
    supervisors when the rota is empty), then the supervisors and the township's active 儿童督导员."""
    if round_no == 1:
        chain = escalation_chain(session, "child", now)
        return [(f"o{o.id}", o.phone) for o in (chain[0] if chain else [])]
    people = [(f"o{o.id}", o.phone) for o in supervisors(session)]
    township, _ = child_place(case)
    if township:
        people += [(f"w{w.id}", w.phone) for w in session.scalars(
            select(CaseWorker).where(CaseWorker.active.is_(True), CaseWorker.role == "child_supervisor",
                                     CaseWorker.township == township).order_by(CaseWorker.id))]
    unique: dict[str, str] = {}
    for key, phone in people:  # a supervisor who is also the township's 儿童督导员 gets one SMS
        unique.setdefault(phone, key)
    return [(key, phone) for phone, key in unique.items()]


def overdue_round(session: Session, task_id: int, round_no: int, settings: DispatchSettings, now: datetime) -> Work:
    """Send overdue round `round_no` of a task unless it is finished or the round went out; idempotent."""
    task = session.get(CaseTask, task_id, with_for_update=True)
    # Only the next round: a round of an earlier due time (the task was given a new one) is dropped.
    if task is None or task.status not in TASK_OPEN or round_no != task.overdue_round + 1 or round_no > LAST_ROUND \
            or task.next_overdue_at is None:
        return []
    if now < task.next_overdue_at:  # early (a due time moved later, clock skew): come back on time
        return [deferred.task_overdue(task.id, round_no, task.next_overdue_at)]
    case = cast(Case, session.get(Case, task.case_id))
    lang = settings.ivr_language
    who = task.assignee.name if task.assignee is not None else render(lang, "task_overdue_nobody")
    body = render(lang, "task_overdue_alert", code=case.code, kind=kind_name(lang, task.kind),
                  due=local_due(task.due_at, settings), who=who)
    follow: Work = []
    people = _recipients(session, case, task, round_no, now)
    # The due time is in the key: a task given a new due time alerts afresh when that one passes.
    stamp = int(task.due_at.timestamp())
    for key, phone in people:
        msg = queue_message(session, f"task-overdue:{task.id}:{stamp}:{round_no}:{key}", phone, body,
                            case_id=case.id)
        follow.append(deferred.send(msg.id))
    task.overdue_round = round_no
    if round_no < LAST_ROUND:
        task.next_overdue_at = now + timedelta(seconds=settings.task_escalate_seconds)
        follow.append(deferred.task_overdue(task.id, round_no + 1, task.next_overdue_at))
    else:
        task.next_overdue_at = None
    case_event(session, case, "task:overdue",
               event_detail("task_overdue", task=task.id, round=round_no, count=len(people)))
    if not people:
        log.error("case %s task %d is overdue but nobody could be alerted", case.code, task.id)
    log.info("case %s task %d overdue round %d to %d people", case.code, task.id, round_no, len(people))
    return follow


def overdue_task_rounds(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: the next overdue round of every open task whose round is due."""
    return [deferred.task_overdue(task_id, done + 1, cast(datetime, at)) for task_id, done, at in session.execute(
        select(CaseTask.id, CaseTask.overdue_round, CaseTask.next_overdue_at)
        .where(CaseTask.status.in_(TASK_OPEN), CaseTask.next_overdue_at <= now))]
