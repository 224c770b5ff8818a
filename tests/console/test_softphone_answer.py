"""Answering, in the softphone, a call the hotline placed: its stored TwiML played as Twilio plays it.

Local mode records outbound calls instead of placing them; the softphone lets a new user pick one up from
the number's inbox: the satisfaction callback, a supervisor's child-line alert, a landline's spoken notice.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.texts import render
from hotline.registry.demo import DEMO_RESIDENT_PHONE, DEMO_TECHNICIAN_PHONE
from ivr_flows.prompts import text
from models import CallLog, Case, Message, Order
from tests.console.softphone_client import PAGE, Softphone, kinds, said

UNKNOWN_CALLER = "+8613700001111"
SUPERVISOR_PHONE = "+8615004760003"      # 赵建国, the demo's supervisor
DEMO_LANDLINE = "+864768223344"          # 张桂兰's landline


@pytest.fixture
def settings(settings):
    """Local mode; the satisfaction call due at once; supervisors called from the first alert round."""
    return settings.with_overrides(twilio_account_sid="", satisfaction_delay_seconds=0, alert_max_repeats=0)


@pytest.fixture
def phone(staff, demo):
    """A dispatcher's softphone."""
    return Softphone(staff.login("dispatcher"))


@pytest.fixture
def duty(staff, demo):
    """A duty officer's softphone."""
    return Softphone(staff.login("duty_officer"))


def order_done(phone: Softphone, run_worker, caller: str = DEMO_RESIDENT_PHONE) -> None:
    """A resident orders housekeeping on the softphone; the demo technician accepts, arrives and completes."""
    phone.dial(caller=caller)
    phone.keys("21")
    run_worker()
    for body in ("1", "到达", "完成"):
        phone.ok("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": body})
    run_worker()


def the_call(phone: Softphone, number: str) -> dict:
    """The newest call in a number's inbox."""
    return next(m for m in phone.inbox(number) if m["channel"] == "call")


@pytest.fixture
def satisfaction_call(phone, run_worker) -> dict:
    """The resident's satisfaction call, placed (recorded) after the order completed."""
    order_done(phone, run_worker)
    return the_call(phone, DEMO_RESIDENT_PHONE)


@pytest.fixture
def alert_call(duty, run_worker, db) -> dict:
    """The supervisor's alert call for a child-line call nobody answered (the caller hung up)."""
    duty.dial(caller=UNKNOWN_CALLER, line="child")
    duty.act("hangup")
    run_worker()
    return the_call(duty, SUPERVISOR_PHONE)


def test_the_satisfaction_call_is_listed_answerable_in_the_residents_inbox(satisfaction_call):
    assert satisfaction_call["answerable"] and not satisfaction_call["answered"]
    assert satisfaction_call["status"] == "local"


def test_answering_the_satisfaction_call_asks_for_the_rating(phone, satisfaction_call):
    picked_up = phone.answer(satisfaction_call["id"])
    assert kinds(picked_up)[0] == "answered"
    assert said(picked_up)[:2] == [text("zh-CN", "satisfaction_intro"), text("zh-CN", "satisfaction_question")]
    assert phone.call["waiting"] == "gather" and phone.call["num_digits"] == 1


def test_pressing_3_on_the_satisfaction_call_rates_the_order_3_and_flags_it_for_follow_up(phone, satisfaction_call, db):
    phone.answer(satisfaction_call["id"])
    done = phone.keys("3")
    assert said(done) == [text("zh-CN", "satisfaction_thanks_follow_up")]
    assert done["call"]["status"] == "completed" and kinds(done)[-1] == "ended"
    db.expire_all()
    order = db.scalars(select(Order)).one()
    assert order.rating == 3 and order.needs_follow_up


def test_an_answered_outbound_call_posts_no_status_callback_and_leaves_no_call_log(phone, satisfaction_call, db):
    before = {row.call_sid for row in db.scalars(select(CallLog))}
    phone.answer(satisfaction_call["id"])
    phone.keys("1")
    db.expire_all()
    assert {row.call_sid for row in db.scalars(select(CallLog))} == before


def test_a_call_can_be_answered_only_once(phone, satisfaction_call, db):
    phone.answer(satisfaction_call["id"])
    again = phone.post("call/answer", message_id=str(satisfaction_call["id"]))
    assert again.status_code == 409 and "一次" in again.get_json()["error"]
    listed = the_call(phone, DEMO_RESIDENT_PHONE)
    assert listed["answered"] and not listed["answerable"]


def test_the_supervisor_pressing_1_on_the_alert_call_acknowledges_the_case(duty, alert_call, db):
    case = db.scalars(select(Case)).one()
    picked_up = duty.answer(alert_call["id"])
    assert " ".join(case.code) in said(picked_up)[0] and duty.call["waiting"] == "gather"
    done = duty.keys("1")
    assert said(done) == [render("zh-CN", "case_call_ok")]
    db.expire_all()
    case = db.get(Case, case.id)
    assert case.status == "acknowledged" and case.acknowledged_by.phone == SUPERVISOR_PHONE


def test_a_dispatcher_is_refused_a_child_line_alert_call_and_does_not_see_it(phone, alert_call, db):
    resp = phone.post("call/answer", message_id=str(alert_call["id"]))
    assert resp.status_code == 403 and resp.get_json()["error"]
    assert phone.client.get(PAGE + "inbox", query_string={"number": SUPERVISOR_PHONE}).status_code == 403
    db.expire_all()
    assert db.scalars(select(Case)).one().status == "missed"


def test_a_duty_officer_is_refused_an_orders_call(duty, satisfaction_call, db):
    resp = duty.post("call/answer", message_id=str(satisfaction_call["id"]))
    assert resp.status_code == 403
    db.expire_all()
    assert db.scalars(select(Order)).one().rating is None


def test_an_admin_answers_both_kinds(staff, satisfaction_call, alert_call):
    admin = Softphone(staff.login("admin"))
    assert admin.answer(satisfaction_call["id"])["call"]["waiting"] == "gather"
    assert admin.answer(alert_call["id"])["call"]["waiting"] == "gather"


def test_a_landline_residents_spoken_notice_is_said_and_hangs_up(phone, run_worker, db):
    phone.dial(caller=DEMO_LANDLINE)
    phone.keys("21")
    run_worker()
    phone.ok("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": "1"})
    run_worker()
    notice = the_call(phone, DEMO_LANDLINE)
    heard = phone.answer(notice["id"])
    technician = "赵志刚"
    assert len(said(heard)) == 2 and technician in said(heard)[0]
    assert heard["call"]["status"] == "completed" and kinds(heard)[-1] == "ended"


@pytest.mark.parametrize("message_id", ["", "abc", "-1", "１"])
def test_a_message_id_that_is_not_a_number_is_refused_with_a_clear_message(phone, message_id):
    resp = phone.post("call/answer", message_id=message_id)
    assert resp.status_code == 400 and "message_id" in resp.get_json()["error"]


def test_an_unknown_message_is_not_found_with_a_clear_message(phone):
    resp = phone.post("call/answer", message_id="999999")
    assert resp.status_code == 404 and "999999" in resp.get_json()["error"]


def test_an_sms_cannot_be_answered(phone, run_worker, db):
    phone.ok("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": "到达"})
    sms = db.scalars(select(Message).where(Message.direction == "outbound")).first()
    resp = phone.post("call/answer", message_id=str(sms.id))
    assert resp.status_code == 400 and resp.get_json()["error"]


def test_a_call_not_yet_placed_by_the_worker_cannot_be_answered(duty, db):
    duty.dial(caller=UNKNOWN_CALLER, line="child")
    duty.act("hangup")  # the alert call is queued; no worker has placed it
    call = db.scalars(select(Message).where(Message.channel == "call")).first()
    assert not the_call(duty, SUPERVISOR_PHONE)["answerable"]
    resp = duty.post("call/answer", message_id=str(call.id))
    assert resp.status_code == 409 and resp.get_json()["error"]
    db.expire_all()
    assert db.scalars(select(Case)).one().status == "missed"


def test_answering_without_the_csrf_token_is_refused(phone, satisfaction_call, db):
    resp = phone.client.post(PAGE + "call/answer", data={"message_id": str(satisfaction_call["id"])})
    assert resp.status_code == 400
    assert the_call(phone, DEMO_RESIDENT_PHONE)["answerable"]
