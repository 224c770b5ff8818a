"""The browser softphone: its calls and texts go through the same signed webhooks a phone line would.

The app runs in local mode (no Twilio account), where the softphone is on by default; the demo registry
(residents, technicians, officers and a week's rota) is loaded as `make run` loads it.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from hotline.factory import create_app
from hotline.registry.demo import DEMO_RESIDENT_PHONE, DEMO_TECHNICIAN_PHONE
from ivr_flows.prompts import text
from models import CallLog, Case, Message, Officer, Order
from tests.console.conftest import Staff
from tests.console.softphone_client import PAGE, Softphone, kinds, said

UNKNOWN_CALLER = "+8613700001111"


@pytest.fixture
def settings(settings):
    """Local mode: no Twilio account, so the softphone is on and nothing leaves the machine."""
    return settings.with_overrides(twilio_account_sid="")


@pytest.fixture
def phone(staff, demo):
    """A dispatcher's console session with helpers to post to the softphone."""
    return Softphone(staff.login("dispatcher"))


@pytest.fixture
def duty(staff, demo):
    """A duty officer's console session: the child line is theirs."""
    return Softphone(staff.login("duty_officer"))


def call_log(db, sid: str) -> CallLog:
    db.expire_all()
    return db.scalar(select(CallLog).where(CallLog.call_sid == sid))


def test_a_demo_resident_pressing_2_then_1_places_a_housekeeping_order(phone, db):
    phone.dial(caller="139 0476 1234")
    phone.keys("2")
    done = phone.keys("1")
    order = db.scalars(select(Order)).one()
    assert (order.category, order.caller_phone, order.resident.name) == ("housekeeping", DEMO_RESIDENT_PHONE, "张桂兰")
    assert any(" ".join(order.code) in sentence for sentence in said(done))
    assert done["call"]["status"] == "completed" and kinds(done)[-1] == "ended"
    assert call_log(db, phone.call["sid"]).ended_at is not None  # the status callback came


def test_the_prompts_are_the_flows_chinese_sentences(phone):
    greeting = phone.dial()
    assert said(greeting) == [text("zh-CN", "greet_known", name="张桂兰"), text("zh-CN", "menu")]
    assert {e["language"] for e in greeting["events"]} == {"cmn-CN"}
    assert phone.call["waiting"] == "gather" and phone.call["num_digits"] == 1
    confirm = phone.keys("2")
    assert said(confirm) == [text("zh-CN", "confirm", category=text("zh-CN", "category_housekeeping"))]


def test_an_unknown_number_is_taken_as_unregistered_and_put_through_to_a_person(phone, db):
    greeting = phone.dial(caller=UNKNOWN_CALLER)
    assert said(greeting)[0] == text("zh-CN", "greet_unknown")
    phone.keys("2")
    done = phone.keys("1")
    order = db.scalars(select(Order)).one()
    assert order.unregistered and order.resident_id is None and order.caller_phone == UNKNOWN_CALLER
    assert text("zh-CN", "unregistered") in said(done)
    assert done["call"]["waiting"] == "dial"


def test_pressing_0_rings_the_officer_on_duty_shown_masked(phone, db):
    phone.dial()
    ringing = phone.keys("0")
    officer = db.scalars(select(Officer).where(Officer.phone.in_(("+8613804760001", "+8613804760002")))).all()
    assert ringing["call"]["waiting"] == "dial"
    (label,) = ringing["call"]["numbers"]
    assert any(o.name in label for o in officer) and "****" in label
    assert "13804760001" not in json.dumps(ringing) and "13804760002" not in json.dumps(ringing)


def test_nobody_answering_rings_the_next_tier_then_asks_for_a_message(phone, db):
    phone.dial()
    first = phone.keys("0")["call"]["numbers"]
    second = phone.act("dial", outcome="no-answer")
    assert second["call"]["waiting"] == "dial" and second["call"]["numbers"] != first  # the supervisor's tier
    message = phone.act("dial", outcome="no-answer")
    assert message["call"]["waiting"] == "record"
    assert text("zh-CN", "nobody_answered") in said(message)
    thanks = phone.act("record")
    assert said(thanks) == [text("zh-CN", "message_thanks")] and thanks["call"]["status"] == "completed"
    row = call_log(db, phone.call["sid"])
    assert row.outcome == "voicemail" and row.recording_url.startswith("https://api.twilio.com/")


def test_an_officer_answering_is_screened_then_connected(phone, db):
    phone.dial()
    phone.keys("0")
    answered = phone.act("dial", outcome="answered")
    officer_heard = [e["text"] for e in answered["events"] if e["kind"] == "officer_say"]
    assert officer_heard[0] == text("zh-CN", "screen_elderly")
    assert "connected" in kinds(answered) and answered["call"]["status"] == "completed"
    row = call_log(db, phone.call["sid"])
    assert row.outcome == "answered" and row.answered_by_id is not None


def test_a_voicemail_box_answering_the_officer_is_not_taken_for_an_answer(phone, db):
    phone.dial()
    phone.keys("0")
    after = phone.act("dial", outcome="voicemail")
    assert "leg_hangup" in kinds(after) and after["call"]["waiting"] == "dial"  # the next tier rings
    assert call_log(db, phone.call["sid"]).answered_by_id is None


def test_a_child_line_call_nobody_answers_leaves_a_case_with_its_recording_and_alerts(duty, db):
    greeting = duty.dial(caller=UNKNOWN_CALLER, line="child")
    assert said(greeting) == [text("zh-CN", "child_greeting")] and greeting["call"]["waiting"] == "dial"
    while duty.call["waiting"] == "dial":
        duty.act("dial", outcome="no-answer")
    assert duty.call["waiting"] == "record"
    duty.act("record")
    db.expire_all()
    case = db.scalars(select(Case)).one()
    assert (case.status, case.caller) == ("voicemail", UNKNOWN_CALLER)
    assert case.recording_url.startswith("https://api.twilio.com/2010-04-01/Accounts/")
    assert db.scalars(select(Message).where(Message.case_id == case.id)).all(), "no alert was queued"


def test_the_demo_technician_accepts_an_offer_by_texting_1(phone, db, run_worker):
    phone.dial()
    phone.keys("21")
    run_worker()
    inbox = phone.client.get(PAGE + "inbox", query_string={"number": DEMO_TECHNICIAN_PHONE}).get_json()
    order = db.scalars(select(Order)).one()
    assert order.code in inbox["messages"][0]["text"]  # the offer reached the technician's number
    replies = phone.ok("sms", **{"from": "138 0476 1101", "line": "elderly", "body": "1"})["replies"]
    assert any("已接单" in r for r in replies)
    db.expire_all()
    order = db.get(Order, order.id)
    assert order.status == "accepted" and order.technician.phone == DEMO_TECHNICIAN_PHONE


def test_the_inbox_lists_what_was_sent_newest_first(phone, db, run_worker):
    phone.ok("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": "完成"})
    phone.ok("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": "到达"})
    messages = phone.client.get(PAGE + "inbox", query_string={"number": DEMO_TECHNICIAN_PHONE}).get_json()["messages"]
    ids = [m["id"] for m in messages]
    assert len(ids) == 2 and ids == sorted(ids, reverse=True)


def test_a_bad_caller_number_gets_a_clear_message_and_places_no_call(phone, db):
    resp = phone.post("call", line="elderly", caller="12ab")
    assert resp.status_code == 400 and "139 0476 1234" in resp.get_json()["error"]
    assert db.scalars(select(CallLog)).all() == []


def test_an_empty_sms_gets_a_clear_message_and_sends_nothing(phone, db):
    resp = phone.post("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": "  "})
    assert resp.status_code == 400 and resp.get_json()["error"]
    assert db.scalars(select(Message)).all() == []


def test_a_key_that_is_not_on_a_phone_is_refused(phone):
    phone.dial()
    resp = phone.post(f"call/{phone.call['sid']}/keys", keys="A")
    assert resp.status_code == 400


def test_another_users_call_cannot_be_driven(phone, staff):
    phone.dial()
    other = Softphone(staff.login("duty_officer"))
    other.call = phone.call
    assert other.post(f"call/{phone.call['sid']}/keys", keys="2").status_code == 409


def test_a_post_without_the_csrf_token_is_refused_and_places_no_call(phone, db):
    resp = phone.client.post(PAGE + "call", data={"line": "elderly", "caller": DEMO_RESIDENT_PHONE})
    assert resp.status_code == 400
    assert db.scalars(select(CallLog)).all() == []


def test_without_login_the_softphone_is_refused(client, demo):
    assert client.get(PAGE + "inbox", query_string={"number": DEMO_TECHNICIAN_PHONE}).status_code == 403
    page = client.get(PAGE)
    assert page.status_code == 302 and "/console/login" in page.headers["Location"]


def test_the_page_offers_the_demo_residents_and_the_keypad(phone):
    html = phone.client.get(PAGE).get_data(as_text=True)
    assert 'id="call-start"' in html and 'data-key="#"' in html and 'id="sms-inbox"' in html
    assert DEMO_RESIDENT_PHONE in html and "张桂兰" in html and DEMO_TECHNICIAN_PHONE in html


@pytest.fixture
def twilio_mode_app(settings):
    """The hotline with a Twilio account (a live line), where the softphone is off unless SOFTPHONE=on."""
    app = create_app(settings.with_overrides(twilio_account_sid="AC" + "1" * 32))
    app.config["TESTING"] = True
    yield app
    app.extensions["hotline"].dispose()


def test_with_a_twilio_account_the_softphone_is_off_and_says_how_to_enable_it(twilio_mode_app):
    client = Staff(twilio_mode_app).login("dispatcher")
    page = client.get(PAGE)
    assert page.status_code == 200 and "SOFTPHONE=on" in page.get_data(as_text=True)
    assert 'id="call-start"' not in page.get_data(as_text=True)
    resp = client.post(PAGE + "call", data={"line": "elderly", "caller": DEMO_RESIDENT_PHONE},
                       headers={"X-CSRF-Token": client.csrf})
    assert resp.status_code == 404


def test_hanging_up_while_the_child_line_rings_leaves_a_missed_case(duty, db):
    duty.dial(caller=UNKNOWN_CALLER, line="child")
    ended = duty.act("hangup")
    assert ended["call"]["status"] == "completed" and kinds(ended)[-1] == "ended"
    db.expire_all()
    assert db.scalars(select(Case)).one().status == "missed"


def test_the_softphone_logs_no_number_unmasked(phone, caplog):
    caplog.set_level("DEBUG")
    phone.dial()
    phone.keys("0")
    phone.act("dial", outcome="answered")
    phone.ok("sms", **{"from": DEMO_TECHNICIAN_PHONE, "line": "elderly", "body": "1"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "softphone" in logged
    for number in (DEMO_RESIDENT_PHONE, DEMO_TECHNICIAN_PHONE, "+8613804760001", "+8613804760002"):
        assert number[3:] not in logged
