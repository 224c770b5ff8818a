"""The tasks section of a case page: duty officers and admins add, reassign, cancel and complete tasks; every
write is access-logged as "write:task" and is a case event; a refused write changes nothing."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from models import AccessLog, CaseTask, Message, utcnow
from tests.console.conftest import csrf_of
from tests.dispatch.test_child_tasks import (
    CHILD_NAME,
    DIRECTOR,
    OTHER_DIRECTOR,
    SUPERVISOR,
    defaults,
    make_case,
    registry,
    sms_to,
)

CODE = "246810"
BASE = f"/console/cases/{CODE}"


@pytest.fixture
def people(db):
    return registry(db)


@pytest.fixture
def case(db, people):
    return make_case(db)


@pytest.fixture
def officer(staff):
    return staff.login("duty_officer", "zhang")


def post(client, path: str, **form):
    return client.post(path, data={"csrf_token": client.csrf, **form})


def tasks(db) -> list[CaseTask]:
    db.expire_all()
    return list(db.scalars(select(CaseTask).order_by(CaseTask.id)))


def writes(db) -> list[tuple]:
    db.expire_all()
    return [(r.actor, r.action, r.route) for r in db.scalars(select(AccessLog).where(AccessLog.action == "write:task")
                                                             .order_by(AccessLog.id))]


def local_input(settings, delta: timedelta) -> str:
    return (datetime.now(settings.tz) + delta).strftime("%Y-%m-%dT%H:%M")


def snapshot(db) -> tuple:
    db.expire_all()
    return ([(t.kind, t.status, t.assignee_id, t.due_at, t.outcome) for t in tasks(db)], writes(db),
            db.scalars(select(Message.id)).all())


# --- who may -------------------------------------------------------------------------------------------

ROUTES = [("get", BASE), ("post", f"{BASE}/tasks"), ("post", f"{BASE}/tasks/defaults"),
          ("post", f"{BASE}/tasks/1/reassign"), ("post", f"{BASE}/tasks/1/cancel"), ("post", f"{BASE}/tasks/1/done")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_dispatcher_is_refused_every_task_route_and_nothing_changes(staff, db, case, settings, method, path):
    defaults(db, case, settings)
    before = snapshot(db)
    client = staff.login("dispatcher")
    resp = client.get(path) if method == "get" else post(client, path, kind="other", reason="x", outcome="x",
                                                         assignee_id="1")
    assert resp.status_code == 403 and snapshot(db) == before


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_visitor_is_sent_to_sign_in_on_every_task_route(client, db, case, method, path):
    token = csrf_of(client.get("/console/login").get_data(as_text=True))  # a visitor's session has a token too
    resp = client.get(path) if method == "get" else client.post(path, data={"kind": "other", "csrf_token": token})
    assert resp.status_code == 302 and "/console/login" in resp.location and tasks(db) == []


@pytest.mark.parametrize("role", ["duty_officer", "admin"])
def test_duty_officers_and_admins_see_the_tasks_section_and_add_a_task(staff, db, case, people, role):
    client = staff.login(role)
    assert 'id="tasks"' in client.get(BASE).get_data(as_text=True)
    resp = post(client, f"{BASE}/tasks", kind="referral", assignee_id=str(people["director"].id))
    assert resp.status_code == 303 and [t.kind for t in tasks(db)] == ["referral"]


# --- the section ---------------------------------------------------------------------------------------

def test_the_section_lists_each_task_with_kind_assignee_masked_number_due_and_status(officer, db, case, settings):
    defaults(db, case, settings)
    html = officer.get(BASE).get_data(as_text=True)
    assert "入户走访调查" in html and "李梅" in html and "+86****3001" in html and DIRECTOR not in html
    assert 'data-status="open"' in html and "待确认" in html


def test_an_unassigned_task_is_said_on_the_case_page(officer, db, settings):
    case = make_case(db, township="新城镇", village="一村")
    defaults(db, case, settings)
    html = officer.get(BASE).get_data(as_text=True)
    assert 'id="tasks-unassigned"' in html and "未指派" in html


def test_an_overdue_task_is_marked(officer, db, case, settings):
    defaults(db, case, settings, now=utcnow() - timedelta(days=2))
    assert "task-overdue" in officer.get(BASE).get_data(as_text=True)


def test_the_page_shows_no_english_task_words_in_chinese(officer, db, case, settings):
    defaults(db, case, settings)
    html = officer.get(BASE).get_data(as_text=True)
    section = html[html.index('id="tasks"'):html.index("</section>", html.index('id="tasks"'))]
    visible = [w for w in ("task", "Task", "open", "Due", "home_visit") if f">{w}<" in section]
    assert visible == []


# --- writes --------------------------------------------------------------------------------------------

def test_adding_a_task_sends_its_sms_logs_the_write_and_records_an_event(officer, db, case, people, settings):
    post(officer, f"{BASE}/tasks", kind="home_visit", assignee_id=str(people["director"].id),
         due=local_input(settings, timedelta(hours=5)))
    [task] = tasks(db)
    assert abs(task.due_at - (utcnow() + timedelta(hours=5))) < timedelta(minutes=2)
    assert len(sms_to(db, DIRECTOR)) == 1 and CHILD_NAME not in sms_to(db, DIRECTOR)[0]
    assert writes(db) == [("zhang", "write:task", f"{BASE}/tasks")]
    db.refresh(case)
    assert [(e.kind, e.actor) for e in case.events] == [("task", "zhang")]


def test_a_task_without_a_due_time_gets_the_kinds_default_hours(officer, db, case):
    post(officer, f"{BASE}/tasks", kind="relief", assignee_id="")
    [task] = tasks(db)
    assert task.assignee_id is None
    assert abs(task.due_at - (utcnow() + timedelta(hours=168))) < timedelta(minutes=2)


def test_the_default_tasks_button_opens_the_risk_levels_tasks_once(officer, db, case):
    post(officer, f"{BASE}/tasks/defaults")
    post(officer, f"{BASE}/tasks/defaults")
    assert [t.kind for t in tasks(db)] == ["home_visit"] and len(writes(db)) == 1


def test_reassigning_moves_the_task_and_tells_both_workers(officer, db, case, people, settings):
    defaults(db, case, settings)
    task = tasks(db)[0]
    post(officer, f"{BASE}/tasks/{task.id}/reassign", assignee_id=str(people["other"].id))
    assert tasks(db)[0].assignee_id == people["other"].id
    assert "已取消" in sms_to(db, DIRECTOR)[-1] and sms_to(db, OTHER_DIRECTOR)
    assert len(writes(db)) == 1


def test_cancelling_needs_a_reason_and_records_it(officer, db, case, settings):
    defaults(db, case, settings)
    task = tasks(db)[0]
    before = snapshot(db)
    resp = post(officer, f"{BASE}/tasks/{task.id}/cancel", reason="  ")
    assert resp.status_code == 303 and snapshot(db) == before
    assert "请填写取消原因" in officer.get(BASE).get_data(as_text=True)
    post(officer, f"{BASE}/tasks/{task.id}/cancel", reason="家长已带孩子就医")
    assert (tasks(db)[0].status, tasks(db)[0].outcome, tasks(db)[0].finished_by) == ("cancelled", "家长已带孩子就医",
                                                                                     "zhang")


def test_recording_an_outcome_completes_the_task(officer, db, case, settings):
    defaults(db, case, settings)
    task = tasks(db)[0]
    post(officer, f"{BASE}/tasks/{task.id}/done", outcome="电话回访，孩子安全")
    assert (tasks(db)[0].status, tasks(db)[0].outcome) == ("done", "电话回访，孩子安全")
    assert writes(db) == [("zhang", "write:task", f"{BASE}/tasks/{task.id}/done")]


def test_a_finished_task_cannot_be_changed_again(officer, db, case, settings):
    defaults(db, case, settings)
    task = tasks(db)[0]
    post(officer, f"{BASE}/tasks/{task.id}/done", outcome="已走访")
    before = snapshot(db)
    for action, form in (("done", {"outcome": "again"}), ("cancel", {"reason": "x"}),
                         ("reassign", {"assignee_id": str(task.assignee_id)})):
        post(officer, f"{BASE}/tasks/{task.id}/{action}", **form)
    assert snapshot(db) == before


@pytest.mark.parametrize("form", [
    {"kind": "tea_party"}, {"kind": ""}, {"kind": "other", "assignee_id": "999999"},
    {"kind": "other", "assignee_id": "abc"}, {"kind": "other", "due": "tomorrow"},
    {"kind": "other", "due": "2001-01-01T08:00"}, {"kind": "other", "due": "2999-01-01T08:00"},
    {"kind": "other\x00"},
], ids=["unknown-kind", "no-kind", "unknown-worker", "garbage-worker", "garbage-due", "past-due", "far-due", "nul"])
def test_a_bad_add_form_changes_nothing(officer, db, case, form):
    before = snapshot(db)
    resp = post(officer, f"{BASE}/tasks", **form)
    assert resp.status_code in (303, 400) and snapshot(db) == before  # 400: NUL bytes are refused app-wide


def test_an_inactive_worker_cannot_be_chosen(officer, db, case, people):
    people["supervisor"].active = False
    db.commit()
    post(officer, f"{BASE}/tasks", kind="other", assignee_id=str(people["supervisor"].id))
    assert tasks(db) == []


def test_an_over_long_outcome_is_refused(officer, db, case, settings):
    defaults(db, case, settings)
    task = tasks(db)[0]
    post(officer, f"{BASE}/tasks/{task.id}/done", outcome="字" * 2001)
    assert tasks(db)[0].status == "open" and writes(db) == []


def test_a_task_of_another_case_is_not_found(officer, db, case, settings):
    other = make_case(db, code="135791")
    defaults(db, other, settings)
    task = tasks(db)[0]
    resp = post(officer, f"{BASE}/tasks/{task.id}/done", outcome="x")
    assert resp.status_code == 404 and tasks(db)[0].status == "open"


def test_an_unknown_case_is_not_found(officer, db):
    assert post(officer, "/console/cases/999999/tasks", kind="other").status_code == 404


def test_a_closed_case_gets_no_new_task(officer, db, case):
    case.status = "closed"
    db.commit()
    post(officer, f"{BASE}/tasks", kind="other")
    assert tasks(db) == []


def test_a_post_without_the_csrf_token_is_refused(officer, db, case):
    resp = officer.post(f"{BASE}/tasks", data={"kind": "other"})
    assert resp.status_code in (400, 403) and tasks(db) == []


def test_the_township_supervisor_is_chosen_when_the_village_has_no_director(officer, db, people):
    make_case(db, village="南村")
    post(officer, f"{BASE}/tasks/defaults")
    assert tasks(db)[0].assignee_id == people["supervisor"].id and sms_to(db, SUPERVISOR)
