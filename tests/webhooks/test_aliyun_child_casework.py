"""Child-line casework with SMS on Alibaba Cloud: a critical intake with physical violence alerts the supervisors
to report to the police and sends the village's 儿童主任 the home visit, each as its approved template; the
儿童主任's `收到 CODE` and `完成 CODE 已走访`, pushed as SmsUp, bind by sender and case code and move the task;
an SmsUp from a number nobody registered gets the same answer as on Twilio and changes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.child_tasks import add_task, local_due
from dispatch.intake import record_intake
from dispatch.jobs import schedule
from models import Case, CaseTask, Message, utcnow, worker_by_phone
from models.phone import national
from tests.aliyun_helpers import aliyun_fake, overrides  # noqa: F401 (fixture: fake_aliyun)
from tests.casework import CHILD_NAME, critical_intake
from tests.conftest import CHILD_NUMBER
from tests.dispatch.test_child_tasks import DIRECTOR, OTHER_DIRECTOR, registry
from tests.webhooks.aliyun_child import digits, reply, sent
from tests.webhooks.child_calls import SUPERVISOR, TIER1_A, TIER1_B, case_of, child_call, screen_leg, staff

STRANGER = "+8613000000000"


@pytest.fixture
def settings(settings, fake_aliyun, tmp_path):
    """SMS through the Alibaba fake, calls through the Twilio fake; police rounds far apart (not the subject)."""
    return settings.with_overrides(**overrides(fake_aliyun, tmp_path), alert_repeat_seconds=300)


@pytest.fixture
def case(app, tw, db, settings, run_worker) -> Case:
    """A child-line call answered by 一线甲, whose critical intake (physical violence, a child of 东城村) is saved
    as the console saves it (committed, then its work scheduled); the worker has run."""
    staff(db)
    registry(db)
    call = child_call(tw)
    leg, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_A)
    leg.follow(screen, Digits="1")
    answered = case_of(db, call)
    work = record_intake(db, answered, critical_intake(), "一线甲", settings, utcnow())
    db.commit()
    schedule(app.extensions["hotline"].queue, work)
    run_worker()
    return case_of(db, call)


def task_state(db, case: Case) -> tuple:
    db.expire_all()
    task = db.scalars(select(CaseTask).where(CaseTask.case_id == case.id)).one()
    return task.status, task.outcome, task.finished_by, task.acknowledged_at is not None


def test_a_critical_intake_alerts_the_supervisors_to_report_to_the_police_by_template(case, fake_aliyun):
    assert case.police_required
    assert sent(fake_aliyun, "police_alert") == [(digits(SUPERVISOR), {"code": case.code})]


def test_the_home_visit_goes_to_the_villages_child_director_by_the_task_template(case, db, settings, fake_aliyun):
    task = db.scalars(select(CaseTask).where(CaseTask.case_id == case.id)).one()
    assert sent(fake_aliyun, "task_sms") == [(digits(DIRECTOR), {
        "code": case.code, "due": local_due(task.due_at, settings), "kind": "入户走访",
        "phone": national(CHILD_NUMBER)})]


def test_no_sms_to_alibaba_carries_the_childs_name(case, fake_aliyun):
    assert fake_aliyun.messages and not [m for m in fake_aliyun.messages if CHILD_NAME in m["content"]]


def test_shou_dao_by_sms_up_acknowledges_the_task_and_is_answered_by_template(case, client, db, fake_aliyun,
                                                                              run_worker):
    reply(client, fake_aliyun, run_worker, DIRECTOR, f"收到 {case.code}")
    assert task_state(db, case) == ("acknowledged", "", "", True)
    [(phone, params)] = sent(fake_aliyun, "task_ack_ok")
    assert phone == digits(DIRECTOR) and params["code"] == case.code and params["kind"] == "入户走访"


def test_wan_cheng_by_sms_up_completes_the_task_with_the_text_as_its_outcome(case, client, db, fake_aliyun,
                                                                            run_worker):
    reply(client, fake_aliyun, run_worker, DIRECTOR, f"收到 {case.code}")
    reply(client, fake_aliyun, run_worker, DIRECTOR, f"完成 {case.code} 已走访")
    assert task_state(db, case)[:3] == ("done", "已走访", "李梅")
    assert sent(fake_aliyun, "task_done_ok") == [(digits(DIRECTOR), {"code": case.code, "kind": "入户走访"})]


def test_the_case_code_of_another_workers_task_is_not_theirs_and_changes_nothing(case, client, db, fake_aliyun,
                                                                                run_worker):
    reply(client, fake_aliyun, run_worker, OTHER_DIRECTOR, f"完成 {case.code} 已走访")
    assert task_state(db, case) == ("open", "", "", False)
    assert sent(fake_aliyun, "task_not_yours") == [(digits(OTHER_DIRECTOR), {"code": case.code})]


def test_an_sms_up_from_an_unknown_number_gets_the_twilio_answer_as_a_template_and_changes_nothing(
        case, client, db, fake_aliyun, run_worker):
    db.expire_all()
    events = len(db.get(Case, case.id).events)
    reply(client, fake_aliyun, run_worker, STRANGER, f"完成 {case.code} 已走访")
    assert sent(fake_aliyun, "unknown_sender") == [(digits(STRANGER), {})]
    [answer] = [m for m in fake_aliyun.messages if m["phone"] == digits(STRANGER)]
    assert "未登记" in answer["content"] and case.code not in answer["content"]
    assert task_state(db, case) == ("open", "", "", False)
    db.expire_all()
    assert len(db.get(Case, case.id).events) == events
    inbound = db.scalar(select(Message).where(Message.direction == "inbound", Message.from_phone == STRANGER))
    assert inbound is not None and inbound.case_id is None


def test_an_overdue_task_alerts_the_duty_officers_by_the_overdue_template(app, case, db, settings, fake_aliyun,
                                                                          run_worker):
    director = worker_by_phone(db, DIRECTOR)
    # A relief application the duty officer gave 李梅 yesterday, due a minute ago and not reported done.
    task, work = add_task(db, db.get(Case, case.id), "relief", director, utcnow() - timedelta(minutes=1), "一线甲",
                          settings, utcnow() - timedelta(days=1))
    db.commit()
    schedule(app.extensions["hotline"].queue, work)
    run_worker()
    expected = {"code": case.code, "kind": "申请救助", "due": local_due(task.due_at, settings), "who": "李梅"}
    assert sent(fake_aliyun, "task_overdue_alert") == [(digits(TIER1_A), expected), (digits(TIER1_B), expected)]
