"""Overdue casework tasks: at the due time the child line's duty officers (tier 1 now), TASK_ESCALATE_SECONDS
later the supervisors and the township's 儿童督导员; done or cancelled stops them; the reconciler finds them."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch import deferred
from dispatch.child_tasks import add_task, cancel_task, complete_task
from dispatch.jobs import schedule
from dispatch.reconcile import overdue_work
from dispatch.task_overdue import overdue_round
from models import Case, CaseTask, Message, utcnow, worker_by_phone
from tests.dispatch.test_child_tasks import CHILD_NAME, DIRECTOR, SUPERVISOR, make_case, registry
from tests.twilio_fake import count_segments
from tests.webhooks.child_calls import ELDERLY_OFFICER, SUPERVISOR as OFFICER_SUPERVISOR, TIER1_A, TIER1_B, TIER2, staff

ROUND_1 = sorted([TIER1_A, TIER1_B])
ROUND_2 = sorted([OFFICER_SUPERVISOR, SUPERVISOR])


@pytest.fixture
def settings(settings):
    """Round 2 one second after round 1, so the worker test need not wait long."""
    return settings.with_overrides(task_escalate_seconds=1)


@pytest.fixture
def task(db, settings) -> CaseTask:
    """A home visit of a case for the village's 儿童主任, due a minute ago, with the child line's rota on."""
    staff(db)
    registry(db)
    case = make_case(db)
    task, _ = add_task(db, case, "home_visit", case_worker(db), utcnow() - timedelta(minutes=1), "duty", settings,
                       utcnow() - timedelta(days=1))
    db.commit()
    return task


def case_worker(db):
    return worker_by_phone(db, DIRECTOR)


def alerted(db, task: CaseTask, round_no: int) -> list[str]:
    keys = Message.key.like(f"task-overdue:{task.id}:%:{round_no}:%")
    return sorted(db.scalars(select(Message.to_phone).where(keys)))


def bodies(db, task: CaseTask) -> list[str]:
    return list(db.scalars(select(Message.body).where(Message.key.like(f"task-overdue:{task.id}:%"))))


def run_round(db, task, round_no, settings, now=None):
    work = overdue_round(db, task.id, round_no, settings, now or utcnow())
    db.commit()
    return work


def test_round_1_alerts_the_first_tier_on_the_child_line_now(db, task, settings):
    run_round(db, task, 1, settings)
    assert alerted(db, task, 1) == ROUND_1  # not tier 2, not the elderly line, not the assignee
    assert TIER2 not in alerted(db, task, 1) and ELDERLY_OFFICER not in alerted(db, task, 1)


def test_round_1_schedules_round_2_after_task_escalate_seconds(db, task, settings):
    now = utcnow()
    work = run_round(db, task, 1, settings, now)
    assert (task.overdue_round, task.next_overdue_at) == (1, now + timedelta(seconds=1))
    assert deferred.task_overdue(task.id, 2, task.next_overdue_at) in work


def test_round_2_alerts_the_supervisors_and_the_townships_child_supervisor_and_is_the_last(db, task, settings):
    run_round(db, task, 1, settings)
    work = run_round(db, task, 2, settings, utcnow() + timedelta(seconds=2))
    assert alerted(db, task, 2) == ROUND_2
    assert (task.overdue_round, task.next_overdue_at) == (2, None)
    assert deferred.of_kind(work, deferred.TASK_OVERDUE) == []


def test_the_alert_names_the_case_code_the_task_and_the_assignee_but_not_the_child(db, task, settings):
    run_round(db, task, 1, settings)
    for body in bodies(db, task):
        assert "246810" in body and "入户走访" in body and "李梅" in body and "逾期" in body
        assert CHILD_NAME not in body and "13904761234" not in body
        assert count_segments(body) == 1


def test_a_round_is_sent_once_however_often_its_job_runs(db, task, settings):
    run_round(db, task, 1, settings)
    assert run_round(db, task, 1, settings) == []
    assert len(alerted(db, task, 1)) == 2


def test_a_round_before_the_due_time_comes_back_on_time(db, settings):
    staff(db)
    registry(db)
    case = make_case(db)
    due = utcnow() + timedelta(hours=1)
    task, _ = add_task(db, case, "home_visit", None, due, "duty", settings, utcnow())
    db.commit()
    assert run_round(db, task, 1, settings) == [deferred.task_overdue(task.id, 1, due)]
    assert alerted(db, task, 1) == []


def test_a_done_task_is_not_alerted(db, task, settings):
    complete_task(db, task, task_case(db, task), "已走访", "李梅", utcnow())
    db.commit()
    assert run_round(db, task, 1, settings) == [] and bodies(db, task) == []


def test_a_cancelled_task_stops_its_round_2(db, task, settings):
    run_round(db, task, 1, settings)
    cancel_task(db, task, task_case(db, task), "误报", "duty", settings, utcnow())
    db.commit()
    assert run_round(db, task, 2, settings, utcnow() + timedelta(seconds=2)) == []
    assert alerted(db, task, 2) == []


def test_a_stale_round_2_of_an_earlier_due_time_is_dropped(db, task, settings):
    task.overdue_round, task.next_overdue_at = 0, task.due_at  # the due time was moved: round 1 comes first
    db.commit()
    assert run_round(db, task, 2, settings) == [] and alerted(db, task, 2) == []


def test_the_reconciler_finds_a_due_round_redis_lost(db, task, settings):
    assert deferred.task_overdue(task.id, 1, task.next_overdue_at) in overdue_work(db, utcnow(), settings)


def test_the_reconciler_leaves_finished_and_not_yet_due_tasks_alone(db, task, settings):
    complete_task(db, task, task_case(db, task), "已走访", "李梅", utcnow())
    db.commit()
    assert deferred.of_kind(overdue_work(db, utcnow(), settings), deferred.TASK_OVERDUE) == []


def test_the_worker_sends_round_1_then_round_2(db, task, run_worker, fake_twilio, app):
    schedule(app.extensions["hotline"].queue, [deferred.task_overdue(task.id, 1, task.due_at)])
    run_worker()
    assert sorted(m["to"] for m in fake_twilio.messages if "逾期" in m["body"]) == ROUND_1
    db.expire_all()
    wait = (db.get(CaseTask, task.id).next_overdue_at - utcnow()).total_seconds()
    assert wait <= 1.0
    time.sleep(max(0.0, wait) + 0.05)
    run_worker()
    assert sorted(m["to"] for m in fake_twilio.messages if "逾期" in m["body"]) == sorted(ROUND_1 + ROUND_2)


def task_case(db, task):
    return db.get(Case, task.case_id)
