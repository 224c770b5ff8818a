"""A case worker answers a task by SMS: signed `POST /twilio/sms` with `收到 CODE` / `完成 CODE 说明`."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.child_tasks import add_task
from models import AccessLog, Case, CaseTask, Message, utcnow
from tests.conftest import ELDERLY_NUMBER
from tests.dispatch.test_child_tasks import DIRECTOR, OTHER_DIRECTOR, defaults, make_case, registry, worker
from tests.orders import answer
from tests.webhooks.child_calls import TIER1_A, case_of, staff, voicemail_call


@pytest.fixture
def task(db, settings) -> CaseTask:
    """A critical case's home visit, sent to the village's 儿童主任 李梅."""
    registry(db)
    case = make_case(db)
    defaults(db, case, settings)
    return case.tasks[0]


def sms(tw, body: str, from_: str = DIRECTOR):
    return tw.sms(from_=from_, to=ELDERLY_NUMBER, body=body)


def state(db, task: CaseTask) -> tuple:
    db.expire_all()
    row = db.get(CaseTask, task.id)
    return row.status, row.outcome, row.finished_by, row.acknowledged_at is not None


def task_logs(db) -> list[tuple]:
    return [(r.actor, r.route, r.action, r.case_id) for r in db.scalars(select(AccessLog).order_by(AccessLog.id))]


def test_shou_dao_and_the_code_acknowledges_the_task(tw, db, task):
    resp = sms(tw, "收到 246810")
    assert resp.status_code == 200 and "已确认" in answer(resp) and "246810" in answer(resp)
    assert state(db, task) == ("acknowledged", "", "", True)


def test_wan_cheng_with_the_code_completes_the_task_with_the_text_as_its_outcome(tw, db, task):
    resp = sms(tw, "完成 246810 已走访，孩子安全")
    assert "完成" in answer(resp)
    assert state(db, task)[:3] == ("done", "已走访,孩子安全", "李梅")


@pytest.mark.parametrize("body", ["２４６８１０完成 已走访", "完成２４６８１０已走访", "246810 完成 已走访"])
def test_full_width_digits_and_the_code_before_or_after_the_word_are_understood(tw, db, task, body):
    sms(tw, body)
    assert state(db, task)[:2] == ("done", "已走访")


def test_every_task_sms_is_access_logged_as_the_worker(tw, db, task):
    sms(tw, "收到 246810")
    sms(tw, "完成 246810 已走访")
    assert task_logs(db) == [("李梅", "sms", "write:task", task.case_id)] * 2


def test_every_task_sms_is_a_case_event_with_the_worker_as_actor(tw, db, task):
    sms(tw, "收到 246810")
    sms(tw, "完成 246810 已走访")
    db.expire_all()
    events = db.get(Case, task.case_id).events
    assert [(e.kind, e.actor) for e in events if e.kind.startswith("task:")] == [("task:acknowledged", "李梅"),
                                                                                  ("task:done", "李梅")]


def test_the_sms_and_its_answer_are_filed_under_the_case(tw, db, task):
    sms(tw, "收到 246810")
    filed = db.scalars(select(Message).where(Message.from_phone == DIRECTOR)).all()
    assert [m.case_id for m in filed] == [task.case_id]
    answers = db.scalars(select(Message).where(Message.to_phone == DIRECTOR, Message.status == "twiml")).all()
    assert [m.case_id for m in answers] == [task.case_id]


def test_a_second_done_is_told_the_task_is_finished_and_changes_nothing(tw, db, task):
    sms(tw, "完成 246810 已走访")
    resp = sms(tw, "完成 246810 又去了一次")
    assert "已办结" in answer(resp)
    assert state(db, task)[:2] == ("done", "已走访") and len(task_logs(db)) == 1


def test_a_second_acknowledgement_says_so_and_changes_nothing(tw, db, task):
    sms(tw, "收到 246810")
    resp = sms(tw, "收到 246810")
    assert "已确认过" in answer(resp) and len(task_logs(db)) == 1


@pytest.mark.parametrize("body", ["你好", "收到", "完成", "？", "x" * 700, "收到\x00246810"])
def test_garbage_from_a_case_worker_gets_how_to_reply_and_changes_nothing(tw, db, task, body):
    resp = sms(tw, body)
    assert resp.status_code == 200 and "个案号" in answer(resp)
    assert state(db, task) == ("open", "", "", False) and task_logs(db) == []


def test_an_unknown_code_is_told_so(tw, db, task):
    resp = sms(tw, "完成 999999 已走访")
    assert "未找到个案999999" in answer(resp)
    assert state(db, task)[0] == "open" and task_logs(db) == []


def test_a_mistyped_short_code_is_told_so(tw, db, task):
    assert "未找到个案2468" in answer(sms(tw, "收到 2468"))


def test_a_case_with_no_task_of_the_sender_is_not_theirs(tw, db, task):
    resp = sms(tw, "收到 246810", from_=OTHER_DIRECTOR)
    assert "没有个案246810的待办任务" in answer(resp)
    assert state(db, task)[0] == "open" and task_logs(db) == []


def test_an_unknown_sender_is_not_taken_for_a_case_worker(tw, db, task):
    resp = sms(tw, "完成 246810 已走访", from_="+8613000000000")
    assert "未登记" in answer(resp) and state(db, task)[0] == "open"


def test_an_inactive_case_worker_is_an_unknown_sender(tw, db, task):
    task.assignee.active = False
    db.commit()
    resp = sms(tw, "完成 246810 已走访")
    assert "未登记" in answer(resp) and state(db, task)[0] == "open"


def test_of_two_open_tasks_on_the_case_the_one_due_first_is_completed(tw, db, task, settings):
    case = db.get(Case, task.case_id)
    earlier, _ = add_task(db, case, "relief", task.assignee, task.due_at - timedelta(hours=12), "duty", settings,
                          utcnow())
    db.commit()
    sms(tw, "完成 246810 已申请低保")
    assert state(db, earlier)[:2] == ("done", "已申请低保") and state(db, task)[0] == "open"


def test_another_workers_task_on_the_same_case_is_not_touched(tw, db, task, settings):
    case = db.get(Case, task.case_id)
    other = worker(db, "学校", "+864767223001", role="school")
    theirs, _ = add_task(db, case, "referral", other, task.due_at - timedelta(hours=12), "duty", settings, utcnow())
    db.commit()
    sms(tw, "完成 246810 已走访")
    assert state(db, theirs)[0] == "open" and state(db, task)[0] == "done"


# --- officers keep their acknowledgement ----------------------------------------------------------------

def test_an_officers_shou_dao_still_acknowledges_the_case_alert(tw, db, run_worker, settings):
    staff(db)
    call = voicemail_call(tw)
    run_worker()
    code = case_of(db, call).code
    resp = sms(tw, f"收到 {code}", from_=TIER1_A)
    assert "已确认个案" in answer(resp) and case_of(db, call).status == "acknowledged"


def test_an_officer_who_is_also_a_case_worker_with_an_open_task_on_the_case_acknowledges_the_task(tw, db, run_worker,
                                                                                                    settings):
    staff(db)
    call = voicemail_call(tw)
    run_worker()
    case = case_of(db, call)
    both = worker(db, "一线甲", TIER1_A, role="child_supervisor")
    task, _ = add_task(db, case, "home_visit", both, utcnow() + timedelta(hours=24), "duty", settings, utcnow())
    db.commit()
    sms(tw, f"收到 {case.code}", from_=TIER1_A)
    assert state(db, task)[0] == "acknowledged" and case_of(db, call).status == "voicemail"


def test_an_officer_who_is_also_a_case_worker_without_a_task_on_the_case_acknowledges_the_case(tw, db, run_worker):
    staff(db)
    call = voicemail_call(tw)
    run_worker()
    worker(db, "一线甲", TIER1_A, role="child_supervisor")
    sms(tw, f"收到 {case_of(db, call).code}", from_=TIER1_A)
    assert case_of(db, call).status == "acknowledged"
