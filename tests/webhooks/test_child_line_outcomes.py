"""How a child-line call ends on its case: the events, a voicemail, a missed call, late callbacks."""
from __future__ import annotations

import pytest

from models import Message, Order
from tests.webhooks.child_calls import (
    CALLER,
    TIER1_A,
    case_of,
    chain,  # noqa: F401 - fixtures
    child_call,
    count,
    dial_ended,
    event_kinds,
    leave_message,
    missed_call,
    recording_of,
    ring_out,
    screen_leg,
    verbs,
    voicemail_call,
)

# --- events -----------------------------------------------------------------------------------------------------

def test_every_ring_attempt_is_an_event_with_its_officers_and_outcome(tw, db, chain):
    call = child_call(tw)
    resp = call.post("/twilio/voice")
    resp = dial_ended(call, resp, status="no-answer")
    resp = dial_ended(call, resp, status="completed")
    resp = dial_ended(call, resp, status="busy")
    leave_message(call, resp)
    case = case_of(db, call)
    assert event_kinds(case) == ["call", "ring", "no-answer", "ring", "no-answer", "ring", "no-answer",
                                 "voicemail", "alert"]
    details = [e.detail for e in case.events]
    assert "一线甲" in details[1] and "一线乙" in details[1]
    assert "二线丙" in details[3] and "三线丁" in details[5]
    assert "no-answer" in details[2] and "completed" in details[4] and "busy" in details[6]


def test_answer_is_an_event_naming_the_officer(tw, db, chain):
    call = child_call(tw)
    leg, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_A)
    leg.follow(screen, Digits="1")
    case = case_of(db, call)
    assert case.events[-1].kind == "answered" and case.events[-1].detail == "一线甲"


# --- voicemail and missed calls -------------------------------------------------------------------------

def test_message_sets_the_case_to_voicemail_with_the_recording_url(tw, db, chain, settings):
    case = case_of(db, voicemail_call(tw))
    assert case.status == "voicemail" and case.recording_url == recording_of(settings)


def test_retried_message_webhook_keeps_one_voicemail_event(tw, db, chain):
    call = child_call(tw)
    record = ring_out(call, call.post("/twilio/voice"))
    leave_message(call, record)
    leave_message(call, record)
    assert event_kinds(case_of(db, call)).count("voicemail") == 1


def test_caller_hanging_up_while_ringing_is_missed_via_the_status_callback(tw, db, chain):
    case = case_of(db, missed_call(tw))
    assert case.status == "missed" and case.recording_url is None
    assert "missed" in event_kinds(case)


def test_caller_hanging_up_during_the_greeting_is_missed(tw, db):
    call = child_call(tw)  # nobody on duty: straight to the message, but the caller hangs up first
    call.post("/twilio/voice")
    call.status("completed", CallDuration="4")
    assert case_of(db, call).status == "missed"


@pytest.mark.parametrize("dial_status", ["no-answer", "completed"])
def test_caller_hanging_up_during_a_tier_is_missed_via_the_dial_action(tw, db, chain, dial_status):
    call = child_call(tw)
    resp = dial_ended(call, call.post("/twilio/voice"), status=dial_status, CallStatus="completed")
    assert verbs(resp) == ["Hangup"]  # no further tier for a caller who is gone
    assert case_of(db, call).status == "missed"


def test_status_callback_for_a_child_call_never_seen_still_leaves_a_missed_case(tw, db, chain):
    call = child_call(tw)  # the voice webhook never reached us (e.g. Twilio used the fallback URL)
    call.status("completed", CallDuration="3")
    case = case_of(db, call)
    assert case is not None and case.status == "missed" and case.caller == CALLER


def test_status_callback_twice_gives_one_missed_event_and_one_alert_round(tw, db, chain):
    call = missed_call(tw)
    messages = count(db, Message)
    call.status("completed", CallDuration="9")
    case = case_of(db, call)
    assert event_kinds(case).count("missed") == 1 and event_kinds(case).count("alert") == 1
    assert case.alert_round == 1 and count(db, Message) == messages


def test_dial_action_then_status_callback_give_one_missed_event(tw, db, chain):
    call = child_call(tw)
    dial_ended(call, call.post("/twilio/voice"), CallStatus="completed")
    call.status("completed", CallDuration="25")
    case = case_of(db, call)
    assert case.status == "missed" and event_kinds(case).count("missed") == 1


def test_late_progress_callbacks_after_completed_change_nothing(tw, db, chain):
    call = missed_call(tw)
    before = case_of(db, call)
    snapshot = (before.status, len(before.events), before.alert_round)
    call.status("ringing")
    call.status("in-progress")
    after = case_of(db, call)
    assert (after.status, len(after.events), after.alert_round) == snapshot


def test_in_progress_callback_while_ringing_leaves_the_case_ringing(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    call.status("in-progress")
    assert case_of(db, call).status == "ringing"


def test_completed_callback_after_the_message_keeps_the_voicemail(tw, db, chain, settings):
    call = voicemail_call(tw)
    call.status("completed", CallDuration="80")
    case = case_of(db, call)
    assert case.status == "voicemail" and case.recording_url == recording_of(settings)
    assert event_kinds(case).count("alert") == 1


def test_completed_callback_before_the_record_action_still_keeps_the_message(tw, db, chain, settings):
    call = child_call(tw)
    record = ring_out(call, call.post("/twilio/voice"))
    call.status("completed", CallDuration="80")  # delivered out of order
    leave_message(call, record)
    case = case_of(db, call)
    assert case.status == "voicemail" and case.recording_url == recording_of(settings)
    assert event_kinds(case).count("alert") == 1


def test_child_line_calls_never_appear_among_orders(tw, db, api, chain):
    voicemail_call(tw)
    missed_call(tw, "+8613904760000")
    assert api("/api/orders").get_json() == {"orders": []}
    assert count(db, Order) == 0
