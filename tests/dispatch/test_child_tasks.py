"""Casework tasks: the defaults of a risk level, who gets them, the SMS that sends them, and their moves.

The helpers at the top are shared with the overdue, SMS-reply and console task tests.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch import deferred
from dispatch.child_tasks import (
    add_task,
    cancel_task,
    complete_task,
    find_assignee,
    open_default_tasks,
    open_tasks,
    reassign_task,
    task_sms,
)
from models import Case, CaseChild, CaseTask, CaseWorker, Message, utcnow
from tests.twilio_fake import count_segments

CHILD_NAME = "小红"
DIRECTOR = "+8613804763001"    # 李梅, 儿童主任 of 东城村
SUPERVISOR = "+8613804763002"  # 王强, 儿童督导员 of 林东镇
OTHER_DIRECTOR = "+8613804763003"  # 赵兰, 儿童主任 of 西城村


def worker(db, name: str, phone: str, role: str = "child_director", township: str = "林东镇", village: str = "",
           active: bool = True) -> CaseWorker:
    """A case worker of the registry."""
    found = CaseWorker(name=name, phone=phone, role=role, township=township, village=village, active=active)
    db.add(found)
    db.commit()
    return found


def registry(db) -> dict[str, CaseWorker]:
    """The village's 儿童主任, the township's 儿童督导员 and another village's 儿童主任."""
    return {"director": worker(db, "李梅", DIRECTOR, village="东城村"),
            "supervisor": worker(db, "王强", SUPERVISOR, role="child_supervisor"),
            "other": worker(db, "赵兰", OTHER_DIRECTOR, village="西城村")}


def make_case(db, risk: str = "critical", township: str = "林东镇", village: str = "东城村",
              code: str = "246810") -> Case:
    """An answered child-line case after intake: a risk level and one child (named) of a village."""
    case = Case(code=code, call_sid="CA" + code * 5 + "ab", caller="+8613904761234", status="answered",
                risk_level=risk, intake_at=utcnow())
    case.children.append(CaseChild(name=CHILD_NAME, township=township, village=village))
    db.add(case)
    db.commit()
    return case


def defaults(db, case: Case, settings, now=None):
    """open_default_tasks, committed; returns its work."""
    work = open_default_tasks(db, case, "duty", settings, now or utcnow())
    db.commit()
    return work


def sms_to(db, phone: str) -> list[str]:
    """Bodies of the outbox SMS queued for a number, oldest first."""
    return list(db.scalars(select(Message.body).where(Message.to_phone == phone, Message.direction == "outbound",
                                                      Message.status != "twiml").order_by(Message.id)))


# --- the defaults of the risk level ----------------------------------------------------------------------

def test_a_critical_case_gets_a_home_visit_due_in_24_hours_for_the_villages_child_director(db, settings):
    people = registry(db)
    case = make_case(db)
    now = utcnow()
    defaults(db, case, settings, now)
    [task] = case.tasks
    assert (task.kind, task.status, task.assignee_id) == ("home_visit", "open", people["director"].id)
    assert abs(task.due_at - (now + timedelta(hours=24))) < timedelta(seconds=1)


@pytest.mark.parametrize(("risk", "hours"), [("urgent", 72), ("not_urgent", 168)])
def test_the_due_time_comes_from_the_risk_level(db, settings, risk, hours):
    registry(db)
    case = make_case(db, risk=risk)
    now = utcnow()
    defaults(db, case, settings, now)
    assert abs(case.tasks[0].due_at - (now + timedelta(hours=hours))) < timedelta(seconds=1)


def test_a_village_without_a_child_director_falls_back_to_the_townships_child_supervisor(db, settings):
    people = registry(db)
    case = make_case(db, village="南村")
    defaults(db, case, settings)
    assert case.tasks[0].assignee_id == people["supervisor"].id


def test_an_inactive_child_director_is_passed_over(db, settings):
    people = registry(db)
    people["director"].active = False
    db.commit()
    case = make_case(db)
    defaults(db, case, settings)
    assert case.tasks[0].assignee_id == people["supervisor"].id


def test_a_task_with_nobody_found_stays_open_and_unassigned_and_sends_nothing(db, settings):
    registry(db)
    case = make_case(db, township="新城镇", village="一村")
    work = defaults(db, case, settings)
    [task] = case.tasks
    assert (task.status, task.assignee_id, task.sent_at) == ("open", None, None)
    assert deferred.message_ids(work) == []
    assert deferred.of_kind(work, deferred.TASK_OVERDUE) == [deferred.task_overdue(task.id, 1, task.due_at)]


def test_a_case_without_a_child_place_has_its_tasks_unassigned(db, settings):
    registry(db)
    case = make_case(db, township="", village="")
    defaults(db, case, settings)
    assert case.tasks[0].assignee_id is None


def test_opening_the_defaults_twice_does_not_duplicate_a_task_already_open(db, settings):
    registry(db)
    case = make_case(db)
    defaults(db, case, settings)
    assert defaults(db, case, settings) == []
    assert len(case.tasks) == 1 and len(sms_to(db, DIRECTOR)) == 1


def test_a_kind_done_before_is_opened_again(db, settings):
    registry(db)
    case = make_case(db)
    defaults(db, case, settings)
    complete_task(db, case.tasks[0], case, "已走访", "duty", utcnow())
    defaults(db, case, settings)
    assert [t.status for t in case.tasks] == ["done", "open"]


def test_a_case_without_a_risk_level_gets_no_default_tasks(db, settings):
    case = make_case(db, risk=None)
    assert defaults(db, case, settings) == [] and case.tasks == []


# --- the SMS --------------------------------------------------------------------------------------------

def test_the_task_goes_by_sms_to_its_assignee_filed_under_the_case(db, settings):
    registry(db)
    case = make_case(db)
    work = defaults(db, case, settings)
    [message] = db.scalars(select(Message).where(Message.id.in_(deferred.message_ids(work))))
    assert (message.to_phone, message.case_id, message.channel) == (DIRECTOR, case.id, "sms")
    assert case.tasks[0].sent_at is not None


def test_the_sms_names_the_case_code_the_task_the_local_due_time_the_number_to_call_and_how_to_reply(db, settings):
    registry(db)
    case = make_case(db)
    defaults(db, case, settings)
    [body] = sms_to(db, DIRECTOR)
    due = case.tasks[0].due_at.astimezone(settings.tz).strftime("%m-%d %H:%M")
    for part in (case.code, "入户走访", due, "04768000002", f"收到{case.code}", f"完成{case.code}"):
        assert part in body, part


def test_the_sms_carries_no_childs_name_and_no_callers_number(db, settings):
    registry(db)
    case = make_case(db)
    defaults(db, case, settings)
    [body] = sms_to(db, DIRECTOR)
    assert CHILD_NAME not in body and "13904761234" not in body and "东城村" not in body


@pytest.mark.parametrize("kind", ["home_visit", "relief", "referral", "pairing", "other"])
def test_the_sms_of_every_kind_is_one_segment(db, settings, kind):
    case = make_case(db)
    task = CaseTask(kind=kind, due_at=utcnow())
    assert count_segments(task_sms(task, case, settings)) == 1


# --- by hand, reassign, cancel, done ----------------------------------------------------------------------

def test_an_officer_adds_a_task_by_hand_for_a_partner(db, settings):
    school = worker(db, "中心小学", "+864767223001", role="school")
    case = make_case(db)
    due = utcnow() + timedelta(days=2)
    task, work = add_task(db, case, "referral", school, due, "duty", settings, utcnow())
    db.commit()
    assert (task.kind, task.assignee_id, task.created_by, task.next_overdue_at) == ("referral", school.id, "duty", due)
    assert sms_to(db, school.phone) and deferred.of_kind(work, deferred.TASK_OVERDUE)


def test_an_unknown_task_kind_is_refused(db, settings):
    case = make_case(db)
    with pytest.raises(ValueError):
        add_task(db, case, "tea_party", None, utcnow(), "duty", settings, utcnow())


def test_every_move_is_a_case_event_with_its_actor(db, settings):
    registry(db)
    case = make_case(db)
    defaults(db, case, settings)
    complete_task(db, case.tasks[0], case, "已走访", "duty", utcnow())
    db.commit()
    assert [(e.kind, e.actor) for e in case.events if e.kind.startswith("task")] == [("task", "duty"),
                                                                                      ("task:done", "duty")]


def test_reassigning_tells_the_old_worker_it_is_off_and_sends_the_task_to_the_new_one(db, settings):
    people = registry(db)
    case = make_case(db)
    defaults(db, case, settings)
    task = case.tasks[0]
    reassign_task(db, task, case, people["other"], None, "duty", settings, utcnow())
    db.commit()
    assert task.assignee_id == people["other"].id
    assert "已取消" in sms_to(db, DIRECTOR)[-1] and case.code in sms_to(db, OTHER_DIRECTOR)[0]
    assert any(e.kind == "task:reassigned" for e in case.events)


def test_a_new_due_time_restarts_the_overdue_rounds(db, settings):
    registry(db)
    case = make_case(db)
    defaults(db, case, settings)
    task = case.tasks[0]
    task.overdue_round = 2
    later = utcnow() + timedelta(days=3)
    work = reassign_task(db, task, case, task.assignee, later, "duty", settings, utcnow())
    assert (task.due_at, task.overdue_round, task.next_overdue_at) == (later, 0, later)
    assert deferred.task_overdue(task.id, 1, later) in work


def test_cancelling_records_the_reason_stops_the_overdue_alerts_and_tells_the_worker(db, settings):
    registry(db)
    case = make_case(db)
    defaults(db, case, settings)
    task = case.tasks[0]
    done, _ = cancel_task(db, task, case, "家长已带孩子就医", "duty", settings, utcnow())
    db.commit()
    assert done and (task.status, task.outcome, task.next_overdue_at) == ("cancelled", "家长已带孩子就医", None)
    assert task.cancelled_at is not None and "已取消" in sms_to(db, DIRECTOR)[-1]


def test_a_finished_task_cannot_be_cancelled_or_completed_again(db, settings):
    registry(db)
    case = make_case(db)
    defaults(db, case, settings)
    task = case.tasks[0]
    assert complete_task(db, task, case, "已走访", "duty", utcnow())
    assert not complete_task(db, task, case, "again", "duty", utcnow())
    assert cancel_task(db, task, case, "no", "duty", settings, utcnow()) == (False, [])
    assert (task.status, task.outcome) == ("done", "已走访")


def test_open_tasks_are_the_open_and_acknowledged_ones(db, settings):
    case = make_case(db)
    for status in ("open", "acknowledged", "done", "cancelled"):
        case.tasks.append(CaseTask(kind="other", status=status, due_at=utcnow()))
    db.commit()
    assert [t.status for t in open_tasks(case)] == ["open", "acknowledged"]


def test_find_assignee_needs_a_township(db):
    registry(db)
    assert find_assignee(db, "child_director", "", "东城村") is None
