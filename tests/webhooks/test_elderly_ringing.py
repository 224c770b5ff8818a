"""The elderly line rings its officers tier by tier with screening, and a message when nobody answers."""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from models import Message
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import recording_of
from tests.webhooks.elderly_calls import (  # noqa: F401 - fixtures
    CHILD_OFFICER,
    OFFICER_A,
    OFFICER_B,
    OFFICER_C,
    call_log,
    count,
    dial_ended,
    dialled,
    resident,
    says,
    screen_leg,
    tier1,
    tier2,
    to_a_person,
    verbs,
)

SUPERVISOR = "+8613800009001"


# --- tiers, screening and messages ------------------------------------------------------------------

def test_dial_that_nobody_accepted_rings_tier_2_even_when_a_voicemail_box_completed_it(tw, db, resident, tier1, tier2):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = dial_ended(call, to_a_person(call), status="completed", DialCallDuration="14")
    assert dialled(resp) == [OFFICER_C]
    assert call_log(db, call).answered_by_id is None


def test_when_every_tier_was_rung_the_caller_is_asked_to_leave_a_message(tw, resident, tier1, tier2):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = dial_ended(call, dial_ended(call, to_a_person(call)), status="busy")
    root = parse_twiml(resp)
    record = root.find("Record")
    assert record is not None and root.find("Dial") is None
    assert urlsplit(record.get("action")).path == "/twilio/voice/message"
    assert int(record.get("maxLength")) > 0
    assert "请在提示音后留言" in says(resp)


def _leave_message(tw, call, recording="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"):
    resp = dial_ended(call, dial_ended(call, to_a_person(call)))
    return call.follow(resp, RecordingUrl=recording, RecordingSid="RE" + "2" * 32, RecordingDuration="21")


def test_a_left_message_is_kept_on_the_call_log(tw, db, resident, tier1, tier2, settings):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = _leave_message(tw, call, recording=recording_of(settings))
    assert "您的留言已收到" in says(resp)
    assert verbs(resp)[-1] == "Hangup"
    log = call_log(db, call)
    assert log.recording_url == recording_of(settings)
    assert log.outcome == "voicemail"


def test_a_left_message_alerts_every_officer_of_the_chain_by_sms(tw, db, resident, tier1, tier2, run_worker,
                                                                 fake_twilio):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    _leave_message(tw, call)
    db.expire_all()
    queued = list(db.scalars(select(Message)))
    assert sorted(m.to_phone for m in queued) == sorted([OFFICER_A, OFFICER_B, OFFICER_C])
    assert all(m.channel == "sms" for m in queued)
    run_worker()
    sent = fake_twilio.messages
    assert sorted(m["to"] for m in sent) == sorted([OFFICER_A, OFFICER_B, OFFICER_C])
    assert all("13904761234" in m["body"] for m in sent)


def test_a_retried_message_webhook_alerts_each_officer_once(tw, db, resident, tier1, run_worker, fake_twilio):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = dial_ended(call, to_a_person(call))
    params = dict(RecordingUrl="https://api.twilio.com/rec/RE5", RecordingSid="RE" + "5" * 32, RecordingDuration="9")
    call.follow(resp, **params)
    call.follow(resp, **params)
    assert count(db, Message) == 2
    run_worker()
    assert sorted(m["to"] for m in fake_twilio.messages) == sorted([OFFICER_A, OFFICER_B])


def test_screening_asks_the_officer_to_press_1_to_accept_and_hangs_up_otherwise(tw, resident, tier1):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    _, resp = screen_leg(tw, call, to_a_person(call), OFFICER_A)
    root = parse_twiml(resp)
    gather = root.find("Gather")
    assert "接听请按1" in "".join(gather.itertext())
    assert gather.get("numDigits") == "1"
    assert urlsplit(gather.get("action")).path == "/twilio/voice/screen/answer"
    assert verbs(resp)[-1] == "Hangup"  # silence (or a voicemail box) never bridges


def test_officer_pressing_1_is_recorded_as_answering_and_the_call_then_ends(tw, db, resident, tier1, tier2):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    dial = to_a_person(call)
    leg, screen = screen_leg(tw, call, dial, OFFICER_B)
    accepted = leg.follow(screen, Digits="1")
    assert "Hangup" not in verbs(accepted)
    log = call_log(db, call)
    assert log.answered_by_id == tier1[1].id
    after = dial_ended(call, dial, status="completed", DialCallDuration="95")
    assert verbs(after) == ["Hangup"]
    log = call_log(db, call)
    assert log.outcome == "answered" and log.answered_by_id == tier1[1].id


def test_officer_pressing_2_is_hung_up_and_not_recorded(tw, db, resident, tier1, tier2):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    dial = to_a_person(call)
    leg, screen = screen_leg(tw, call, dial, OFFICER_A)
    refused = leg.follow(screen, Digits="2")
    assert verbs(refused) == ["Hangup"]
    assert call_log(db, call).answered_by_id is None
    assert dialled(dial_ended(call, dial, status="completed")) == [OFFICER_C]


def test_second_officer_pressing_1_after_the_first_is_hung_up(tw, db, resident, tier1):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    dial = to_a_person(call)
    leg_a, screen_a = screen_leg(tw, call, dial, OFFICER_A)
    leg_b, screen_b = screen_leg(tw, call, dial, OFFICER_B)
    assert "Hangup" not in verbs(leg_a.follow(screen_a, Digits="1"))
    assert verbs(leg_b.follow(screen_b, Digits="1")) == ["Hangup"]
    assert call_log(db, call).answered_by_id == tier1[0].id


def test_acceptance_for_an_unknown_parent_call_is_hung_up(tw, db, resident, tier1):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    dial = to_a_person(call)
    leg, screen = screen_leg(tw, call, dial, OFFICER_A)
    leg.extra["ParentCallSid"] = "CA" + "0" * 32
    assert verbs(leg.follow(screen, Digits="1")) == ["Hangup"]
    assert call_log(db, call).answered_by_id is None


def test_with_nobody_on_the_rota_the_supervisors_are_rung(tw, db, resident):
    people.officer(db, "督导", SUPERVISOR, role="supervisor", line=None)
    people.officer(db, "下班了", OFFICER_A, hours=(-9, -1))
    people.officer(db, "儿童线", CHILD_OFFICER, line="child")
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    assert dialled(to_a_person(call)) == [SUPERVISOR]


def test_with_nobody_at_all_the_caller_goes_straight_to_a_message(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = to_a_person(call)
    assert "Dial" not in verbs(resp)
    assert parse_twiml(resp).find("Record") is not None
