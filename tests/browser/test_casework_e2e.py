"""A child-protection case from the call to the close, as the bureau works it (issue 13, "Done means").

A child calls the child line (signed webhooks to the live server) and a tier-1 officer answers (screening: 1).
A duty officer, in a real Chromium, records the intake: critical, physical violence, a child of a demo village
that has a 儿童主任. The close is refused until the police report is recorded, while the supervisors get the
police-report alert SMS, and again while the home visit (sent by SMS to the village's 儿童主任, without the
child's name) is open. The director's `完成 CODE 已走访` completes the task; then the case closes. Every read
and write is in the access log. The story runs once with the outbox only and once with a real worker sending.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline.registry.demo_history import load_history
from models import AccessLog, Case, CaseTask, CaseWorker, Message, supervisors, utcnow
from tests.live import http_tw
from tests.orders import answer
from tests.webhooks.child_calls import child_call, dial_ended, dialled, screen_leg

CHILD = "小红"
CHILD_MOBILE = "+8613904769001"
TOWNSHIP, VILLAGE = "林东镇", "东城社区"  # a demo village with its 儿童主任
OFFICER = "duty-zhang"


def _expect_text(page, selector: str, pattern: str, timeout: float = 15_000) -> None:
    page.wait_for_function(
        "([sel, pat]) => { const el = document.querySelector(sel); return el && new RegExp(pat).test(el.innerText); }",
        arg=[selector, pattern], timeout=timeout)


def _session(app):
    return app.extensions["hotline"].session_factory()


def _case(app, code: str) -> Case:
    with _session(app) as session:
        return session.scalar(select(Case).where(Case.code == code))


def _webhooks(live, settings):
    """Signed webhooks to the live server, as Twilio would post them to this installation."""
    return http_tw(live, auth_token=settings.twilio_auth_token, public_base_url=settings.public_base_url)


@pytest.fixture
def demo_casework(app, demo):
    """The demo as `make run` loads it: the registry and rota, then the history with the villages' 儿童主任,
    the townships' 儿童督导员 and past cases."""
    with _session(app) as session:
        assert load_history(session, utcnow())
        session.commit()


# --- the story's steps -------------------------------------------------------------------------------

def a_child_calls_and_a_tier1_officer_answers(tw, app, settings) -> str:
    """The child's call rings tier 1; the first officer rung presses 1 and talks; the call ends. The case code."""
    call = child_call(tw, CHILD_MOBILE)
    tier1 = call.post("/twilio/voice")
    officer = dialled(tier1)[0]
    leg, screen = screen_leg(tw, call, tier1, officer)
    leg.follow(screen, Digits="1")
    dial_ended(call, tier1, status="completed", DialCallDuration="240", CallStatus="completed")
    call.status("completed", CallDuration="260")
    with _session(app) as session:
        case = session.scalar(select(Case).where(Case.call_sid == call.sid))
        assert case is not None and case.status == "answered" and case.answered_by.phone == officer
        return case.code


def the_officer_opens_the_case(console, code: str):
    """A duty officer signs in and opens the case from the list."""
    page = console.page("duty_officer", OFFICER)
    page.goto("/console/cases/")
    page.click(f'tr[data-case-code="{code}"] a')
    page.wait_for_selector(f'#case-detail[data-case-code="{code}"][data-status="answered"]')
    return page


def records_a_critical_physical_violence_intake(console, page) -> None:
    """The intake form: a child about herself, critical, physical violence, one child of the village."""
    page.click("#intake-edit")
    page.select_option("#intake-contact-type", "child_self")
    page.check("#risk-critical")
    page.check('input[name="category"][value="violence/physical"]')
    page.fill('[name="child-0-name"]', CHILD)
    page.select_option('[name="child-0-sex"]', "female")
    page.fill('[name="child-0-age"]', "9")
    page.fill('[name="child-0-township"]', TOWNSHIP)
    page.fill('[name="child-0-village"]', VILLAGE)
    page.select_option('[name="child-0-living"]', "left_behind")
    page.fill("#intake-summary", "孩子说爸爸喝酒后打她，身上有伤，现在不敢回家。")
    console.screenshot(page, "30-casework-intake-form")
    assert "已保存登记" in submit(page, "#intake-submit")
    _expect_text(page, "#intake-risk-level", "危急")
    _expect_text(page, "#intake-category-list", "身体暴力")
    page.wait_for_selector('#case-police[data-pending="yes"]')


def submit(page, button: str) -> str:
    """Press a form's button; the page's answer: the flashed message(s) of the page it leads to."""
    with page.expect_navigation():
        page.click(button)
    return " ".join(page.locator('p.flash[role="status"]').all_inner_texts())


def tries_to_close(page, note: str = "已处置") -> str:
    """Press the close button with a note; the page's answer."""
    page.fill("#close-note", note)
    return submit(page, "#close-submit")


def police_alerts_of(app, case: Case) -> list[Message]:
    """The police-report alert SMS the supervisors got about the case."""
    with _session(app) as session:
        return list(session.scalars(select(Message).where(Message.case_id == case.id, Message.channel == "sms",
                                                          Message.key.like("police-alert:%"))))


def the_village_director(app) -> CaseWorker:
    with _session(app) as session:
        return session.scalar(select(CaseWorker).where(CaseWorker.role == "child_director",
                                                       CaseWorker.township == TOWNSHIP, CaseWorker.village == VILLAGE))


def task_sms_of(app, case: Case) -> list[Message]:
    """The task SMS of the case (to case workers)."""
    with _session(app) as session:
        return list(session.scalars(select(Message).where(Message.case_id == case.id, Message.key.like("task:%"))))


def records_the_police_report(page) -> None:
    """The officer records who reported, to which station, and its number (the time defaults to now)."""
    page.fill("#police-reporter-input", "张警官（值班员代报）")
    page.fill("#police-station-input", "林东派出所")
    page.fill("#police-no-input", "林公（刑）受字〔2024〕0815号")
    assert "已登记报警记录" in submit(page, "#police-submit")
    page.wait_for_selector('#case-police[data-pending="no"]')
    assert not page.inner_text("#police-minutes").startswith("-")  # reported at once, never "before" the intake


def the_director_replies_done(tw, director: CaseWorker, code: str, settings) -> str:
    """The 儿童主任's SMS `完成 CODE 已走访`, signed as Twilio posts it; the answer the director gets."""
    resp = tw.sms(from_=director.phone, to=settings.child_number, body=f"完成 {code} 已走访")
    assert resp.status_code == 200
    return answer(resp)


def access_log(app, case: Case) -> list[tuple[str, str]]:
    with _session(app) as session:
        return [(row.actor, row.action) for row in
                session.scalars(select(AccessLog).where(AccessLog.case_id == case.id).order_by(AccessLog.id))]


# --- the story ---------------------------------------------------------------------------------------

def walk_the_case(console, app, settings, live, worker=None) -> None:
    """The whole lifecycle; with a worker, each SMS is also seen to leave the outbox."""
    tw = _webhooks(live, settings)
    code = a_child_calls_and_a_tier1_officer_answers(tw, app, settings)
    page = the_officer_opens_the_case(console, code)
    records_a_critical_physical_violence_intake(console, page)
    assert "须报警" in page.inner_text("#close-refusal")

    refusal = tries_to_close(page)
    assert "须报警" in refusal and "尚未登记报警记录" in refusal
    console.screenshot(page, "31-casework-close-refused-police")
    case = _case(app, code)
    assert case.status == "answered" and case.police_required

    alerts = police_alerts_of(app, case)
    with _session(app) as session:
        bosses = {officer.phone for officer in supervisors(session)}
    assert bosses and {m.to_phone for m in alerts} == bosses
    assert all(code in m.body and "报警" in m.body and CHILD not in m.body for m in alerts)

    director = the_village_director(app)
    [task_sms] = task_sms_of(app, case)
    assert task_sms.to_phone == director.phone and task_sms.channel == "sms"
    assert code in task_sms.body and CHILD not in task_sms.body
    page.wait_for_selector(f'tr.task[data-kind="home_visit"][data-status="open"][data-assignee-id="{director.id}"]')
    if worker is not None:
        sent = [m.id for m in alerts] + [task_sms.id]
        worker.wait_until(lambda: _all_sent(app, sent), 30, what="the police alerts and the task SMS to be sent")

    records_the_police_report(page)
    refusal = tries_to_close(page)
    assert "未完成的任务" in refusal
    console.screenshot(page, "32-casework-close-refused-task")
    assert _case(app, code).status == "answered"

    reply = the_director_replies_done(tw, director, code, settings)
    assert code in reply and "完成" in reply
    page.reload()
    done = page.wait_for_selector('tr.task[data-kind="home_visit"][data-status="done"]')
    assert "已走访" in done.inner_text()
    page.wait_for_selector('#tasks[data-open-tasks="0"]')

    assert tries_to_close(page, "已报警，儿童主任已入户走访，孩子已由亲属安置。") == "已结案。"
    page.wait_for_selector(f'#case-detail[data-case-code="{code}"][data-status="closed"]')
    console.screenshot(page, "33-casework-closed")
    closed = _case(app, code)
    assert closed.status == "closed" and closed.closed_at is not None
    with _session(app) as session:
        assert session.scalar(select(CaseTask.status).where(CaseTask.case_id == closed.id)) == "done"

    logged = access_log(app, closed)
    for action in ("read", "write:intake", "write:police", "write:close"):
        assert (OFFICER, action) in logged, (action, logged)
    assert (director.name, "write:task") in logged


def _all_sent(app, message_ids: list[int]) -> bool:
    with _session(app) as session:
        statuses = set(session.scalars(select(Message.status).where(Message.id.in_(message_ids))))
    return statuses == {"local"}  # local mode: sent means written to the log, not queued any more


def test_a_critical_violence_case_closes_only_after_the_police_report_and_the_home_visit(
        console, demo_casework, app, settings, live):
    walk_the_case(console, app, settings, live)


def test_the_same_case_with_a_real_worker_sending_every_sms(console, demo_casework, app, settings, live, worker):
    walk_the_case(console, app, settings, live, worker)
    with _session(app) as session:
        queued = session.scalars(select(Message.key).where(Message.status == "queued",
                                                           Message.direction == "outbound")).all()
    assert not [key for key in queued if re.match(r"(police-alert|task):", key)], queued
