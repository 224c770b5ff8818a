"""What a new user does in the console, in a real (headless) Chromium against the served app."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from hotline.registry.demo import DEMO_RESIDENT_PHONE, DEMO_TECHNICIAN_PHONE
from models import AccessLog, Case, Order, Technician, new_case_code, utcnow


def _expect_text(page, selector: str, pattern: str, timeout: float = 15_000) -> None:
    page.wait_for_function(
        "([sel, pat]) => { const el = document.querySelector(sel); return el && new RegExp(pat).test(el.innerText); }",
        arg=[selector, pattern], timeout=timeout)


def test_sign_in_shows_the_users_role_and_sign_out_ends_it(console, demo):
    page = console.page()
    page.goto("/console/login")
    console.screenshot(page, "01-login")
    page.fill("#username", "nobody")
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    assert "用户名或密码错误" in page.inner_text("#login-error")
    console.staff.user("wang", "dispatcher")
    console.login(page, "wang")
    assert "调度员" in page.inner_text("#current-user")
    page.click("#logout")
    page.wait_for_selector("#login-submit")


def test_an_order_placed_on_the_softphone_is_offered_accepted_and_the_board_follows(console, demo, worker, app):
    board = console.page("dispatcher", "board-watcher")
    board.goto("/console/orders/")
    phone = console.page("dispatcher", "operator")
    phone.goto("/console/softphone/")
    phone.select_option("#line", "elderly")
    phone.fill("#caller", DEMO_RESIDENT_PHONE)
    phone.click("#call-start")
    _expect_text(phone, "#prompts", "家政")            # the menu is read out
    phone.click('button[data-key="2"]')                # housekeeping & repairs
    _expect_text(phone, "#prompts", "确认")
    phone.click('button[data-key="1"]')                # confirm
    _expect_text(phone, "#prompts", "服务单")
    with app.extensions["hotline"].session_factory() as session:
        order = session.scalar(select(Order))
    assert order is not None and order.category == "housekeeping"
    console.screenshot(phone, "02-softphone-call")

    # The worker offers it; the board shows it without a reload.
    row = f'tr[data-order-code="{order.code}"]'
    board.wait_for_selector(row)
    board.wait_for_selector(f'{row} .status[data-status="offered"]', timeout=30_000)

    # The technician panel: the offer arrived in the technician's inbox; reply 1 to accept.
    phone.fill("#sms-from", DEMO_TECHNICIAN_PHONE)
    phone.dispatch_event("#sms-from", "change")
    _expect_text(phone, "#sms-inbox", order.code, timeout=20_000)
    phone.fill("#sms-body", "1")
    phone.click("#sms-send")
    _expect_text(phone, "#sms-replies", "已接单")
    console.screenshot(phone, "03-softphone-technician")

    board.wait_for_selector(f'{row} .status[data-status="accepted"]', timeout=15_000)
    console.screenshot(board, "04-orders-board")
    board.goto(f"/console/orders/{order.id}")
    _expect_text(board, "#timeline", "accepted|接单")
    console.screenshot(board, "05-order-detail")


def test_a_completed_order_gets_a_satisfaction_call_answered_on_the_softphone(console, demo, worker, app):
    phone = console.page("dispatcher", "operator")
    phone.goto("/console/softphone/")
    phone.fill("#caller", DEMO_RESIDENT_PHONE)
    phone.click("#call-start")
    _expect_text(phone, "#prompts", "家政")
    phone.click('button[data-key="2"]')
    _expect_text(phone, "#prompts", "确认")
    phone.click('button[data-key="1"]')
    _expect_text(phone, "#prompts", "服务单")
    phone.fill("#sms-from", DEMO_TECHNICIAN_PHONE)
    phone.evaluate("document.activeElement.blur()")  # close the number suggestions
    _expect_text(phone, "#sms-inbox", "派单", timeout=20_000)
    for sent, (body, answer) in enumerate((("1", "已接单"), ("到达", "已记录到达"), ("完成", "已完成")), start=1):
        phone.fill("#sms-body", body)
        phone.click("#sms-send")
        # Wait for this reply itself (the panel ignores a send while the previous one is under way).
        phone.wait_for_function("n => document.querySelectorAll('#sms-replies .sms-reply').length === n", arg=sent)
        assert answer in phone.locator("#sms-replies .sms-reply").nth(sent - 1).inner_text()

    # The resident's phone: first the arrival call placed at "到达" (issue 15), answered with 1 ...
    phone.fill("#sms-from", DEMO_RESIDENT_PHONE)
    phone.evaluate("document.activeElement.blur()")
    arrival_button = '#sms-inbox .sms-in.call:has-text("服务人员到了吗") button.answer-call'
    phone.wait_for_selector(arrival_button, timeout=30_000)
    phone.click(arrival_button)
    _expect_text(phone, "#prompts", "服务人员到了吗")
    phone.click('button[data-key="1"]')
    _expect_text(phone, "#prompts", "谢谢")
    # ... then the satisfaction call (SATISFACTION_DELAY_SECONDS=0 here) rings; press 3.
    answer_button = "#sms-inbox .sms-in.call button.answer-call"  # the arrival call's button is gone
    phone.wait_for_selector(answer_button, timeout=30_000)
    phone.click(answer_button)
    _expect_text(phone, "#prompts", "满意请按1")
    phone.click('button[data-key="3"]')
    _expect_text(phone, "#prompts", "感谢您的评价")
    console.screenshot(phone, "03b-softphone-satisfaction")
    with app.extensions["hotline"].session_factory() as session:
        order = session.scalar(select(Order))
        assert (order.rating, order.needs_follow_up) == (3, True)

    board = console.page("dispatcher", "board-watcher")
    board.goto("/console/orders/?status=all")
    board.wait_for_selector(f'tr[data-order-code="{order.code}"] [data-flag="follow-up"]')


def test_a_csv_with_one_bad_row_imports_nothing_and_names_the_line(console, demo, app, tmp_path):
    with app.extensions["hotline"].session_factory() as session:
        before = session.scalar(select(func.count(Technician.id)))
    csv = tmp_path / "technicians.csv"
    csv.write_text("姓名,手机,技能,社区,纬度,经度\n"
                   "赵师傅,13804760001,家政服务,林东镇,43.98,119.39\n"
                   "钱师傅,not-a-phone,家政服务,林东镇,43.98,119.39\n", encoding="utf-8")
    page = console.page("dispatcher")
    page.goto("/console/import/")
    page.select_option("#import-kind", "technicians")
    page.set_input_files("#import-file", str(csv))
    page.click("#import-submit")
    page.wait_for_selector("#import-errors li")
    errors = page.inner_text("#import-errors")
    assert re.search(r"\b3\b", errors), errors          # the bad row is line 3 of the file
    console.screenshot(page, "06-import-errors")
    with app.extensions["hotline"].session_factory() as session:
        assert session.scalar(select(func.count(Technician.id))) == before


def test_the_reports_page_draws_its_charts(console, demo):
    page = console.page("dispatcher")
    page.goto("/console/reports/")
    page.wait_for_selector("svg#chart-categories")
    assert "累计为居家老年人提供服务" in page.inner_text("#summary-line")
    assert page.locator("svg.chart").count() >= 2
    console.screenshot(page, "07-reports")


def test_a_dispatcher_is_refused_a_child_case_and_a_duty_officers_view_is_logged(console, demo, app):
    with app.extensions["hotline"].session_factory() as session:
        case = Case(code=new_case_code(session), status="voicemail", caller="+8613904760099",
                    call_sid="CA" + "e" * 32, created_at=utcnow())
        session.add(case)
        session.commit()
        code = case.code

    dispatcher = console.page("dispatcher")
    answer = dispatcher.goto(f"/console/cases/{code}")
    assert answer.status == 403
    assert "+8613904760099" not in dispatcher.content()

    officer = console.page("duty_officer", "duty-li")
    officer.goto("/console/cases/")
    officer.wait_for_selector(f'tr[data-case-code="{code}"]')
    assert "+8613904760099" not in officer.inner_text("#cases")
    console.screenshot(officer, "08-cases")
    officer.goto(f"/console/cases/{code}")
    officer.wait_for_selector("#case-detail")
    console.screenshot(officer, "09-case-detail")
    with app.extensions["hotline"].session_factory() as session:
        logged = session.scalars(select(AccessLog).where(AccessLog.case_id == case.id)).all()
    assert any(row.actor == "duty-li" for row in logged)
    assert not any(row.actor.startswith("dispatcher") for row in logged)

    admin = console.page("admin")
    admin.goto("/console/audit/")
    _expect_text(admin, "#access-log", "duty-li")
    console.screenshot(admin, "10-access-log")


def test_the_main_pages_render(console, demo):
    dispatcher = console.page("dispatcher")
    for path, selector, name in (("/console/technicians", "#technicians", "11-technicians"),
                                 ("/console/residents", "#residents", "12-residents"),
                                 ("/console/outbox/", "#messages", "13-outbox")):
        dispatcher.goto(path)
        dispatcher.wait_for_selector(selector)
        console.screenshot(dispatcher, name)
    officer = console.page("duty_officer")
    officer.goto("/console/rota/")
    officer.wait_for_selector("#rota-week")
    assert officer.inner_text("#on-duty-now").strip()
    console.screenshot(officer, "14-rota")
    officer.goto("/console/officers")
    officer.wait_for_selector("#officers")
    english = officer.goto("/console/rota/?lang=en")
    assert english.ok and "Sign out" in officer.inner_text("#logout")


def test_an_admin_deactivating_a_user_signs_them_out_at_their_next_click(console, demo):
    dispatcher = console.page("dispatcher", "wang")
    admin = console.page("admin", "boss")
    admin.click('[data-nav="users.index"]')
    admin.wait_for_selector('tr[data-username="wang"][data-sessions="1"]')
    console.screenshot(admin, "15-users")
    admin.click('tr[data-username="wang"] form[action$="/active"] button')
    admin.wait_for_selector('tr[data-username="wang"][data-active="0"][data-sessions="0"]')
    dispatcher.reload()
    dispatcher.wait_for_selector("#login-submit")
    assert "请重新登录" in dispatcher.inner_text("main")


def test_changing_my_password_keeps_this_browser_signed_in(console, demo):
    from tests.console.conftest import PASSWORD

    page = console.page("duty_officer", "li")
    page.click("#change-password")
    page.fill('[name="current_password"]', PASSWORD)
    page.fill('[name="new_password"]', "a-brand-new-password")
    page.fill('[name="new_password_again"]', "a-brand-new-password")
    console.screenshot(page, "16-change-password")
    page.click("#password-submit")
    page.wait_for_selector("#current-user")
    assert "密码已修改" in page.inner_text("main")
