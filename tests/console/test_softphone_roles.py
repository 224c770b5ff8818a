"""The softphone keeps the console's role split: a user plays only their role's numbers and line, reads only
their side of the messages, never a caller's full number, and every case datum it returns is access-logged.
"""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from hotline.factory import create_app
from hotline.registry.demo import DEMO_RESIDENT_PHONE, DEMO_TECHNICIAN_PHONE
from models import AccessLog, Case, Message, Order, Resident, ResidentPhone
from models.phone import mask, national
from tests.console.conftest import Staff
from tests.console.softphone_client import PAGE, Softphone, said

CHILD_CALLER = "+8613700001111"
SUPERVISOR_PHONE = "+8615004760003"      # 赵建国, the demo's supervisor: alerted for every case
OFFICER_PHONE = "+8613804760001"


@pytest.fixture
def settings(settings):
    """Local mode; supervisors called from the first alert round."""
    return settings.with_overrides(twilio_account_sid="", alert_max_repeats=0)


@pytest.fixture
def dispatcher(staff, demo):
    """A dispatcher's softphone."""
    return Softphone(staff.login("dispatcher"))


@pytest.fixture
def duty(staff, demo):
    """A duty officer's softphone."""
    return Softphone(staff.login("duty_officer"))


@pytest.fixture
def case(duty, run_worker, db) -> Case:
    """A child-line call nobody answered: a missed case, its first alerts sent."""
    duty.dial(caller=CHILD_CALLER, line="child")
    duty.act("hangup")
    run_worker()
    db.expire_all()
    return db.scalars(select(Case)).one()


@pytest.fixture
def offered(dispatcher, run_worker, db) -> Order:
    """A housekeeping order offered to the demo technician."""
    dispatcher.dial(caller=DEMO_RESIDENT_PHONE)
    dispatcher.keys("21")
    run_worker()
    return db.scalars(select(Order)).one()


def sms(phone: Softphone, sender: str, body: str, line: str):
    return phone.post("sms", **{"from": sender, "line": line, "body": body})


def softphone_reads(db, case: Case) -> list[AccessLog]:
    db.expire_all()
    return list(db.scalars(select(AccessLog).where(AccessLog.case_id == case.id, AccessLog.action == "softphone")))


def test_a_dispatcher_texting_ack_as_an_officer_is_refused_and_the_case_stays_unacknowledged(dispatcher, case, db):
    resp = sms(dispatcher, SUPERVISOR_PHONE, f"ACK {case.code}", "elderly")
    assert resp.status_code == 403 and resp.get_json()["error"]
    db.expire_all()
    assert db.get(Case, case.id).status == "missed"
    assert db.scalars(select(Message).where(Message.direction == "inbound")).all() == []


def test_a_duty_officer_texting_1_as_a_technician_is_refused_and_the_order_stays_offered(duty, offered, db):
    resp = sms(duty, DEMO_TECHNICIAN_PHONE, "1", "child")
    assert resp.status_code == 403 and resp.get_json()["error"]
    db.expire_all()
    assert db.get(Order, offered.id).technician_id is None


def test_a_duty_officer_cannot_call_as_a_resident(duty, db):
    resp = duty.post("call", line="child", caller=DEMO_RESIDENT_PHONE)
    assert resp.status_code == 403 and resp.get_json()["error"]
    assert db.scalars(select(Case)).all() == []


def test_a_dispatcher_cannot_call_the_child_line(dispatcher, db):
    resp = dispatcher.post("call", line="child", caller=DEMO_RESIDENT_PHONE)
    assert resp.status_code == 403 and resp.get_json()["error"]
    assert db.scalars(select(Case)).all() == []


def test_a_dispatcher_cannot_play_a_child_line_caller(dispatcher, case, db):
    resp = dispatcher.post("call", line="elderly", caller=CHILD_CALLER)
    assert resp.status_code == 403
    assert dispatcher.client.get(PAGE + "inbox", query_string={"number": CHILD_CALLER}).status_code == 403


def test_a_dispatcher_cannot_read_an_officers_inbox(dispatcher, case):
    resp = dispatcher.client.get(PAGE + "inbox", query_string={"number": SUPERVISOR_PHONE})
    assert resp.status_code == 403 and resp.get_json()["error"]


def test_a_number_both_an_officer_and_a_residents_is_refused_to_a_dispatcher(dispatcher, db):
    resident = db.scalars(select(Resident)).first()
    db.add(ResidentPhone(resident_id=resident.id, phone=OFFICER_PHONE))
    db.commit()
    assert dispatcher.post("call", line="elderly", caller=OFFICER_PHONE).status_code == 403
    assert OFFICER_PHONE not in dispatcher.client.get(PAGE).get_data(as_text=True)


def test_an_admin_plays_an_officer_and_a_resident(staff, demo):
    admin = Softphone(staff.login("admin"))
    assert admin.client.get(PAGE + "inbox", query_string={"number": SUPERVISOR_PHONE}).status_code == 200
    assert admin.dial(caller=DEMO_RESIDENT_PHONE)["call"]["waiting"] == "gather"


def test_the_dispatchers_page_offers_no_officer_and_only_the_elderly_line(dispatcher):
    html = dispatcher.client.get(PAGE).get_data(as_text=True)
    assert DEMO_TECHNICIAN_PHONE in html and DEMO_RESIDENT_PHONE in html
    assert SUPERVISOR_PHONE not in html and OFFICER_PHONE not in html
    assert 'value="elderly"' in html and 'value="child"' not in html


def test_the_duty_officers_page_offers_officers_only_and_only_the_child_line(duty):
    html = duty.client.get(PAGE).get_data(as_text=True)
    assert SUPERVISOR_PHONE in html
    assert DEMO_TECHNICIAN_PHONE not in html and DEMO_RESIDENT_PHONE not in html
    assert 'value="child"' in html and 'value="elderly"' not in html


def test_a_duty_officers_inbox_masks_the_child_callers_number(duty, case):
    texts = " ".join(m["text"] for m in duty.inbox(SUPERVISOR_PHONE))
    assert case.code in texts
    assert national(CHILD_CALLER) not in texts and CHILD_CALLER not in texts
    assert mask(CHILD_CALLER) in texts


def test_a_case_alert_shown_in_the_inbox_is_access_logged_once_while_polled(duty, case, db):
    duty.inbox(SUPERVISOR_PHONE)
    duty.inbox(SUPERVISOR_PHONE)
    (row,) = softphone_reads(db, case)
    assert (row.actor, row.route) == ("duty_officer-user", PAGE + "inbox")


def test_an_ack_answer_masks_the_callers_number_and_is_access_logged(duty, case, db):
    replies = duty.ok("sms", **{"from": SUPERVISOR_PHONE, "line": "child", "body": f"ACK {case.code}"})["replies"]
    assert any(case.code in r for r in replies)
    assert all(national(CHILD_CALLER) not in r and CHILD_CALLER not in r for r in replies)
    (row,) = softphone_reads(db, case)
    assert (row.actor, row.route, row.remote_addr) == ("duty_officer-user", PAGE + "sms", "127.0.0.1")


def test_an_ack_and_its_answer_are_filed_under_the_case(duty, case, db):
    duty.ok("sms", **{"from": SUPERVISOR_PHONE, "line": "child", "body": f"ACK {case.code}"})
    db.expire_all()
    rows = db.scalars(select(Message).where(Message.key.like("in:%") | Message.key.like("reply:%"))).all()
    assert len(rows) == 2 and {(m.case_id, m.order_id) for m in rows} == {(case.id, None)}


def test_a_technicians_reply_and_its_answer_are_filed_under_the_order(dispatcher, offered, db):
    dispatcher.ok("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": "1"})
    db.expire_all()
    rows = db.scalars(select(Message).where(Message.key.like("in:%") | Message.key.like("reply:%"))).all()
    assert len(rows) == 2 and {(m.order_id, m.case_id) for m in rows} == {(offered.id, None)}


def test_an_admins_inbox_masks_the_callers_number_in_an_ack_answer(staff, duty, case, db):
    duty.ok("sms", **{"from": SUPERVISOR_PHONE, "line": "child", "body": f"ACK {case.code}"})
    admin = Softphone(staff.login("admin"))
    shown = admin.inbox(SUPERVISOR_PHONE)
    assert shown and all(CHILD_CALLER[3:] not in m["text"] for m in shown)


def test_answering_an_alert_call_masks_the_callers_number_it_reads_out(duty, case, db):
    call = next(m for m in duty.inbox(SUPERVISOR_PHONE) if m["channel"] == "call")
    heard = " ".join(said(duty.answer(call["id"])))
    assert " ".join(case.code) in heard
    assert " ".join(national(CHILD_CALLER)) not in heard and national(CHILD_CALLER) not in heard
    assert any(row.route == PAGE + "call/answer" for row in softphone_reads(db, case))


def test_the_sms_row_names_the_console_user_who_typed_it(dispatcher, offered, db):
    dispatcher.ok("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": "1"})
    db.expire_all()
    received = db.scalars(select(Message).where(Message.direction == "inbound")).one()
    assert received.sent_by == "dispatcher-user"


def test_the_order_page_says_the_reply_was_sent_from_the_softphone_by_whom(dispatcher, offered):
    dispatcher.ok("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": "1"})
    html = dispatcher.client.get(f"/console/orders/{offered.id}").get_data(as_text=True)
    assert "由 dispatcher-user 在模拟电话上代发" in html


@pytest.fixture
def live_app(settings):
    """A real Twilio account with SOFTPHONE=on: what the softphone does acts for real."""
    app = create_app(settings.with_overrides(twilio_account_sid="AC" + "1" * 32, softphone="on"))
    app.config["TESTING"] = True
    yield app
    app.extensions["hotline"].dispose()


@pytest.fixture
def live(live_app):
    """A dispatcher's softphone on the live line, with the demo registry."""
    from hotline.registry.demo import load_demo
    from models import utcnow

    state = live_app.extensions["hotline"]
    with state.session_factory() as session:
        load_demo(session, live_app.extensions["hotline"].settings.tz, utcnow())
        session.commit()
    return Softphone(Staff(live_app).login("dispatcher"))


def test_with_a_real_account_the_page_warns_that_it_acts_as_the_owner_and_records_you(live):
    html = live.client.get(PAGE).get_data(as_text=True)
    assert 'id="softphone-real-warning"' in html and "dispatcher-user" in html


def test_in_local_mode_the_page_has_no_real_account_warning(dispatcher):
    assert 'id="softphone-real-warning"' not in dispatcher.client.get(PAGE).get_data(as_text=True)


def test_with_a_real_account_each_sms_logs_a_warning_naming_the_console_user(live, caplog):
    caplog.set_level(logging.INFO)
    live.ok("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": "到达"})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "softphone" in r.name]
    assert any("dispatcher-user" in w and mask(DEMO_TECHNICIAN_PHONE) in w for w in warnings)
    assert all(DEMO_TECHNICIAN_PHONE[3:] not in w for w in warnings)


def test_with_a_real_account_each_call_logs_a_warning_naming_the_console_user(live, caplog):
    caplog.set_level(logging.INFO)
    live.dial(caller=DEMO_RESIDENT_PHONE)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "softphone" in r.name]
    assert any("dispatcher-user" in w and mask(DEMO_RESIDENT_PHONE) in w for w in warnings)
