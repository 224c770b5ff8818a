"""Every voice call is logged: status callbacks, the line a number reaches, and the call log each walk leaves."""
from __future__ import annotations

import pytest

from models import Order
from tests import people
from tests.conftest import CHILD_NUMBER, ELDERLY_NUMBER
from tests.twilio_client import parse_twiml
from tests.webhooks.elderly_calls import (  # noqa: F401 - fixtures
    CHILD_OFFICER,
    OFFICER_A,
    UNKNOWN_CALLER,
    call_log,
    count,
    dial_ended,
    dialled,
    resident,
    says,
    screen_leg,
    tier1,
    to_a_person,
)

# --- call status ------------------------------------------------------------------------------------

def test_completed_status_callback_records_duration_and_end(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    resp = call.status("completed", CallDuration="42")
    assert resp.status_code == 200
    log = call_log(db, call)
    assert log.status == "completed" and log.duration_s == 42 and log.ended_at is not None


def test_late_ringing_callback_after_completed_changes_nothing(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    call.status("completed", CallDuration="42")
    before = call_log(db, call)
    snapshot = (before.status, before.duration_s, before.ended_at, before.outcome)
    assert call.status("ringing").status_code == 200
    assert call.status("in-progress").status_code == 200
    after = call_log(db, call)
    assert (after.status, after.duration_s, after.ended_at, after.outcome) == snapshot


def test_caller_hanging_up_at_the_menu_is_logged_as_hung_up(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    call.status("completed", CallDuration="7")
    assert call_log(db, call).outcome == "hung-up"


def test_status_callback_for_a_call_never_seen_is_still_logged(tw, db):
    call = tw.new_call(from_=UNKNOWN_CALLER, to=ELDERLY_NUMBER)
    assert call.status("completed", CallDuration="3").status_code == 200
    log = call_log(db, call)
    assert log is not None and log.status == "completed" and log.from_phone == UNKNOWN_CALLER
    assert log.ended_at is not None and log.duration_s == 3
    assert log.outcome == "hung-up"


# --- lines and numbers ------------------------------------------------------------------------------

def test_call_to_the_child_number_rings_the_child_line_and_never_creates_an_order(tw, db, resident, tier1):
    people.officer(db, "儿童线值班", CHILD_OFFICER, line="child")
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=CHILD_NUMBER)
    resp = call.post("/twilio/voice")
    assert "未成年人保护热线" in says(resp)
    assert parse_twiml(resp).find("Gather") is None
    assert dialled(resp) == [CHILD_OFFICER]
    _, screen = screen_leg(tw, call, resp, CHILD_OFFICER)
    assert "未成年人保护热线来电" in says(screen)
    message = dial_ended(call, resp)
    call.follow(message, RecordingUrl="https://api.twilio.com/rec/RE9", RecordingSid="RE" + "9" * 32)
    assert count(db, Order) == 0
    log = call_log(db, call)
    assert log.line == "child" and log.to_phone == CHILD_NUMBER and log.outcome == "voicemail"


@pytest.mark.parametrize("to", ["+15005550006", "+864768009999", "client:alice", ""])
def test_call_to_an_unknown_number_still_gets_the_elderly_menu(tw, db, resident, to):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=to)
    resp = call.post("/twilio/voice")
    assert parse_twiml(resp).find("Gather") is not None
    assert call_log(db, call).line == "elderly"


def test_anonymous_caller_is_served(tw, db):
    call = tw.new_call(from_="anonymous", to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    assert parse_twiml(resp).find("Gather") is not None
    assert call_log(db, call).resident_id is None


# --- every call is logged ---------------------------------------------------------------------------

def _ordered(tw, call):
    call.follow(call.follow(call.post("/twilio/voice"), Digits="2"), Digits="1")


def _answered(tw, call):
    dial = call.follow(call.post("/twilio/voice"), Digits="0")
    leg, screen = screen_leg(tw, call, dial, OFFICER_A)
    leg.follow(screen, Digits="1")
    dial_ended(call, dial, status="completed")


def _voicemail(tw, call):
    message = dial_ended(call, to_a_person(call))
    call.follow(message, RecordingUrl="https://api.twilio.com/rec/RE3", RecordingSid="RE" + "3" * 32)


def _hung_up(tw, call):
    call.post("/twilio/voice")


@pytest.mark.parametrize("walk,path,outcome", [
    (_ordered, "21", "order"),
    (_answered, "0", "answered"),
    (_voicemail, "__", "voicemail"),
    (_hung_up, "", "hung-up"),
], ids=["order", "answered", "voicemail", "hung-up"])
def test_every_call_leaves_a_call_log_with_from_to_line_path_and_outcome(tw, db, resident, walk, path, outcome):
    people.officer(db, "值班员甲", OFFICER_A)
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    walk(tw, call)
    call.status("completed", CallDuration="60")
    log = call_log(db, call)
    assert (log.from_phone, log.to_phone, log.line) == (people.RESIDENT_MOBILE, ELDERLY_NUMBER, "elderly")
    assert log.path == path
    assert log.outcome == outcome
    assert log.ended_at is not None and log.duration_s == 60
