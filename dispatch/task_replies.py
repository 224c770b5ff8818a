"""A case worker's SMS about a task: `收到 CODE` acknowledges, `完成 CODE 说明` completes with the text as outcome.

Bound by the sender's number (an active models.CaseWorker) and the case code: the sender's open task on that case
that is due first. Full-width digits and punctuation are read as ASCII (NFKC); the code may come before or after
the word. Every task an SMS moves is access-logged (actor = the worker, route "sms", action "write:task").
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import TASK_OPEN, Case, CaseTask, CaseWorker, TaskStatus, case_by_code, log_access

from .child_tasks import acknowledge_task, complete_task, kind_name, local_due
from .replies import ACK_WORDS
from .settings import DispatchSettings
from .texts import render

log = logging.getLogger(__name__)
DONE_WORDS = ("已完成", "完成", "办结", "已办结", "DONE")
_ACK = "|".join(sorted(ACK_WORDS, key=len, reverse=True))
_DONE = "|".join(sorted(DONE_WORDS, key=len, reverse=True))
_SEP = r"[\s,.;:!?，。；：！？、\-#\"'“”‘’()（）\[\]【】]*"
# The word first (`完成 123456 已走访`) or the code first (`123456 完成 已走访`); the code is any digit run,
# so a mistyped one gets "no such case" rather than silence.
_FORMS = [re.compile(rf"^{_SEP}(?P<word>{_ACK}|{_DONE}){_SEP}(?P<code>[0-9]+)(?P<rest>.*)$", re.S | re.I),
          re.compile(rf"^{_SEP}(?P<code>[0-9]+){_SEP}(?P<word>{_ACK}|{_DONE})(?P<rest>.*)$", re.S | re.I)]
MAX_BODY = 600


@dataclass(frozen=True)
class TaskReply:
    """A parsed task reply: intent "ack" or "done", the case code, and (done) what was done."""

    intent: str
    code: str
    note: str = ""


def parse_task_reply(body: str | None) -> TaskReply | None:
    """`收到 CODE`, `CODE 收到`, `完成 CODE 说明`, `CODE 完成 说明`; None for anything else."""
    text = unicodedata.normalize("NFKC", body or "").strip()
    if not text or len(text) > MAX_BODY or "\x00" in text:
        return None
    for form in _FORMS:
        match = form.match(text)
        if match is None:
            continue
        # An acknowledgement may carry a few words ("收到123456，马上去"): they are not kept.
        if match.group("word").upper() in ACK_WORDS:
            return TaskReply("ack", match.group("code"))
        return TaskReply("done", match.group("code"), match.group("rest").strip(" \t\r\n,.;:，。；：、-"))
    return None


def _workers_tasks(session: Session, worker: CaseWorker, case: Case) -> list[CaseTask]:
    return list(session.scalars(select(CaseTask).where(CaseTask.case_id == case.id,
                                                       CaseTask.assignee_id == worker.id)
                                .order_by(CaseTask.due_at, CaseTask.id)))


def bound_task(session: Session, worker: CaseWorker, code: str) -> tuple[Case | None, list[CaseTask]]:
    """The case of `code` and the worker's tasks on it, open ones first by due time."""
    case = case_by_code(session, code) if len(code) == 6 else None
    if case is None:
        return None, []
    tasks = _workers_tasks(session, worker, case)
    return case, sorted(tasks, key=lambda t: (t.status not in TASK_OPEN, t.due_at, t.id))


def handle_task_sms(session: Session, worker: CaseWorker, body: str, settings: DispatchSettings, now: datetime,
                    only_if_open: bool) -> tuple[str, Case | None] | None:
    """Act on a case worker's SMS: (answer, case it was about). None when `only_if_open` and the SMS does not
    name a case where the worker has an open task (the sender is also an officer or technician: their own
    path answers it). Caller commits."""
    lang = settings.ivr_language
    reply = parse_task_reply(body)
    if reply is None:
        return None if only_if_open else (render(lang, "task_help"), None)
    case, tasks = bound_task(session, worker, reply.code)
    open_ones = [t for t in tasks if t.status in TASK_OPEN]
    if only_if_open and not open_ones:
        return None
    if case is None:
        return render(lang, "task_unknown_code", code=reply.code), None
    if not tasks:
        return render(lang, "task_not_yours", code=case.code), None
    if not open_ones:
        return render(lang, "task_already_done", code=case.code), case
    if reply.intent == "ack":
        return _acknowledge(session, worker, case, open_ones, settings, now), case
    task = open_ones[0]
    if not complete_task(session, task, case, reply.note, worker.name, now):
        return render(lang, "task_already_done", code=case.code), case
    _logged(session, worker, case, now)
    log.info("case %s task %d done by case worker %d by SMS", case.code, task.id, worker.id)
    return render(lang, "task_done_ok", code=case.code, kind=kind_name(lang, task.kind)), case


def _acknowledge(session: Session, worker: CaseWorker, case: Case, open_ones: list[CaseTask],
                 settings: DispatchSettings, now: datetime) -> str:
    lang = settings.ivr_language
    unseen = [t for t in open_ones if t.status == TaskStatus.OPEN]
    task = unseen[0] if unseen else open_ones[0]
    params = {"code": case.code, "kind": kind_name(lang, task.kind), "due": local_due(task.due_at, settings)}
    if not unseen or not acknowledge_task(session, task, case, worker.name, now):
        return render(lang, "task_ack_already", **params)
    _logged(session, worker, case, now)
    log.info("case %s task %d acknowledged by case worker %d by SMS", case.code, task.id, worker.id)
    return render(lang, "task_ack_ok", **params)


def _logged(session: Session, worker: CaseWorker, case: Case, now: datetime) -> None:
    log_access(session, worker.name, [case.id], "sms", "write:task", at=now)
