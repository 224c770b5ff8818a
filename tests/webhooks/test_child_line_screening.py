"""Screened ringing on the child line: the whisper, pressing 1 or 2, silence and voicemail boxes."""
from __future__ import annotations

from urllib.parse import urlsplit

from models import Message
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import (
    TIER1_A,
    TIER1_B,
    TIER2,
    WHISPER,
    case_of,
    chain,  # noqa: F401 - fixtures
    child_call,
    count,
    dial_ended,
    dialled,
    screen_leg,
    verbs,
)

# --- screening ------------------------------------------------------------------------------------------------

def test_every_number_runs_the_child_line_screening_whisper(tw, chain):
    call = child_call(tw)
    resp = call.post("/twilio/voice")
    for phone in (TIER1_A, TIER1_B):
        _, screen = screen_leg(tw, call, resp, phone)
        gather = parse_twiml(screen).find("Gather")
        assert WHISPER in "".join(gather.itertext())
        assert gather.get("numDigits") == "1"
        assert urlsplit(gather.get("action")).path == "/twilio/voice/screen/answer"


def test_screening_silence_falls_through_to_hang_up_the_officers_leg(tw, chain):
    call = child_call(tw)
    _, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_A)
    gather = parse_twiml(screen).find("Gather")
    assert gather.get("actionOnEmptyResult") != "true"  # silence never reaches the answer URL
    assert verbs(screen)[-1] == "Hangup"


def test_officer_pressing_2_is_hung_up_and_not_recorded(tw, db, chain):
    call = child_call(tw)
    leg, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_A)
    assert verbs(leg.follow(screen, Digits="2")) == ["Hangup"]
    case = case_of(db, call)
    assert case.status == "ringing" and case.answered_by_id is None


def test_refusal_by_every_tier_1_officer_rings_tier_2(tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    for phone in (TIER1_A, TIER1_B):
        leg, screen = screen_leg(tw, call, tier1, phone)
        leg.follow(screen, Digits="2")
    assert dialled(dial_ended(call, tier1, status="completed", DialCallDuration="6")) == [TIER2]


def test_screening_silence_then_the_next_tier_rings_and_nobody_is_recorded(tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    screen_leg(tw, call, tier1, TIER1_A)  # the officer picks up and says nothing: the leg hangs up
    assert dialled(dial_ended(call, tier1, status="completed", DialCallDuration="10")) == [TIER2]
    assert case_of(db, call).answered_by_id is None


def test_voicemail_box_picking_up_is_not_an_answer_and_the_next_tier_rings(tw, db, chain):
    call = child_call(tw)
    resp = dial_ended(call, call.post("/twilio/voice"), status="completed", DialCallDuration="14")
    assert dialled(resp) == [TIER2]
    case = case_of(db, call)
    assert case.status == "ringing" and case.answered_by_id is None


def test_officer_pressing_1_answers_the_case(tw, db, chain):
    call = child_call(tw)
    leg, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_B)
    accepted = leg.follow(screen, Digits="1")
    assert "Hangup" not in verbs(accepted)  # the leg bridges
    case = case_of(db, call)
    assert case.status == "answered" and case.answered_by_id == chain["b"].id and case.answered_at is not None


def test_answered_call_ends_without_ringing_another_tier(tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    leg, screen = screen_leg(tw, call, tier1, TIER1_A)
    leg.follow(screen, Digits="1")
    assert verbs(dial_ended(call, tier1, status="completed", DialCallDuration="300")) == ["Hangup"]


def test_answer_in_tier_2_is_recorded_on_the_case(tw, db, chain):
    call = child_call(tw)
    tier2 = dial_ended(call, call.post("/twilio/voice"))
    leg, screen = screen_leg(tw, call, tier2, TIER2)
    leg.follow(screen, Digits="1")
    assert case_of(db, call).answered_by_id == chain["c"].id


def test_second_officer_pressing_1_is_hung_up_and_the_first_keeps_the_case(tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    leg_a, screen_a = screen_leg(tw, call, tier1, TIER1_A)
    leg_b, screen_b = screen_leg(tw, call, tier1, TIER1_B)
    leg_a.follow(screen_a, Digits="1")
    assert verbs(leg_b.follow(screen_b, Digits="1")) == ["Hangup"]
    assert case_of(db, call).answered_by_id == chain["a"].id


def test_answered_call_ending_is_not_missed_and_sends_no_alert(tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    leg, screen = screen_leg(tw, call, tier1, TIER1_A)
    leg.follow(screen, Digits="1")
    dial_ended(call, tier1, status="completed", DialCallDuration="300", CallStatus="completed")
    call.status("completed", CallDuration="320")
    assert case_of(db, call).status == "answered"
    assert count(db, Message) == 0
