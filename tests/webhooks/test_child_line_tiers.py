"""The child line rings its tiers at once and in turn, then the supervisors, then takes a message."""
from __future__ import annotations

from urllib.parse import urlsplit

from tests import people
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import (
    ELDERLY_OFFICER,
    OFF_DUTY,
    SUPERVISOR,
    TIER1_A,
    TIER1_B,
    TIER2,
    TIER3,
    case_of,
    chain,  # noqa: F401 - fixtures
    child_call,
    dial_ended,
    dial_of,
    dialled,
    leave_message,
    ring_out,
    says,
    verbs,
)

# --- tiers --------------------------------------------------------------------------------------------------

def test_all_tier_1_officers_ring_at_once_in_one_dial(tw, chain):
    resp = child_call(tw).post("/twilio/voice")
    assert dialled(resp) == sorted([TIER1_A, TIER1_B])


def test_each_ring_is_at_most_25_seconds_with_answer_on_bridge(tw, chain):
    call = child_call(tw)
    resp = call.post("/twilio/voice")
    for _ in range(3):
        dial = dial_of(resp)
        assert int(dial.get("timeout")) <= 25
        assert dial.get("answerOnBridge") == "true"
        resp = dial_ended(call, resp)


def test_default_ring_is_20_seconds(tw, chain):
    assert dial_of(child_call(tw).post("/twilio/voice")).get("timeout") == "20"


def test_unanswered_tiers_escalate_from_tier_1_to_tier_2_to_tier_3(tw, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    tier2 = dial_ended(call, tier1)
    tier3 = dial_ended(call, tier2, status="busy")
    assert (dialled(tier1), dialled(tier2), dialled(tier3)) == (sorted([TIER1_A, TIER1_B]), [TIER2], [TIER3])


def test_off_duty_and_elderly_line_officers_and_supervisors_are_not_rung_while_the_rota_has_someone(tw, chain):
    call = child_call(tw)
    resp = call.post("/twilio/voice")
    rung = []
    while parse_twiml(resp).find("Dial") is not None:
        rung += dialled(resp)
        resp = dial_ended(call, resp)
    assert sorted(rung) == sorted([TIER1_A, TIER1_B, TIER2, TIER3])


def test_exhausted_chain_records_a_message_of_up_to_3_minutes(tw, chain):
    call = child_call(tw)
    resp = ring_out(call, call.post("/twilio/voice"))
    root = parse_twiml(resp)
    record = root.find("Record")
    assert record is not None and root.find("Dial") is None
    assert record.get("maxLength") == "180"
    assert urlsplit(record.get("action")).path == "/twilio/voice/message"


def test_message_is_thanked_and_the_call_hung_up(tw, chain):
    call = child_call(tw)
    resp = leave_message(call, ring_out(call, call.post("/twilio/voice")))
    assert "您的留言已收到" in says(resp)
    assert verbs(resp)[-1] == "Hangup"


def test_empty_rota_rings_the_supervisors(tw, db):
    people.officer(db, "督导戊", SUPERVISOR, role="supervisor", line=None)
    people.officer(db, "下班庚", OFF_DUTY, line="child", hours=(-9, -1))
    people.officer(db, "养老线己", ELDERLY_OFFICER, line="elderly")
    assert dialled(child_call(tw).post("/twilio/voice")) == [SUPERVISOR]


def test_supervisors_not_answering_lead_to_the_message(tw, db):
    people.officer(db, "督导戊", SUPERVISOR, role="supervisor", line=None)
    call = child_call(tw)
    resp = dial_ended(call, call.post("/twilio/voice"))
    assert parse_twiml(resp).find("Record") is not None


def test_nobody_at_all_goes_straight_to_the_message_after_the_greeting(tw, db):
    call = child_call(tw)
    resp = call.post("/twilio/voice")
    root = parse_twiml(resp)
    assert root.find("Dial") is None
    assert root.find("Record").get("maxLength") == "180"
    assert "110" in says(resp)
    assert case_of(db, call).status == "ringing"
