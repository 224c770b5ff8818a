"""Child-line alerts: SMS rounds until an officer acknowledges, by SMS or by pressing 1 on a supervisor's call.

ALERT_REPEAT_SECONDS is 1 here (ALERT_MAX_REPEATS 2), so a test waits about a second for the next round.
"""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from models import Case, Message, RotaShift, utcnow
from tests.conftest import ELDERLY_NUMBER
from tests.orders import answer
from tests.twilio_client import parse_twiml
from tests.twilio_fake import count_segments
from tests.webhooks.child_calls import (
    CALLER,
    ELDERLY_OFFICER,
    RECORDING_SID,
    SUPERVISOR,
    TIER1_A,
    TIER1_B,
    TIER2,
    TIER3,
    case_of,
    child_call,
    dial_ended,
    missed_call,
    path_of,
    screen_leg,
    staff,
    voicemail_call,
)

SECOND_CALLER = "+8613904760000"
CHAIN = sorted([TIER1_A, TIER1_B, TIER2, TIER3, SUPERVISOR])


@pytest.fixture
def settings(settings, request):
    """Short alert settings for the web app and the worker alike (a test may override through `indirect`)."""
    return settings.with_overrides(**{"alert_repeat_seconds": 1, "alert_max_repeats": 2,
                                      **getattr(request, "param", {})})


@pytest.fixture
def chain(db):
    return staff(db)


def alerts(fake_twilio) -> list[dict]:
    """Alert SMS the fake Twilio accepted (officers' replies are TwiML, never REST messages)."""
    return [m for m in fake_twilio.messages if "个案" in m["body"]]


def recipients(fake_twilio) -> list[str]:
    return sorted(m["to"] for m in alerts(fake_twilio))


def wait_for_next_round(db, call) -> None:
    """Sleep until the case's next alert round is due (about ALERT_REPEAT_SECONDS)."""
    due = case_of(db, call).next_alert_at
    assert due is not None, "no further alert round is scheduled"
    wait = (due - utcnow()).total_seconds()
    assert wait <= 1.0, f"the next round is due in {wait:.1f} s, not after ALERT_REPEAT_SECONDS (1 s)"
    time.sleep(max(0.0, wait) + 0.05)


def sms(tw, phone: str, body: str, **extra):
    """An officer's SMS to the number the alerts come from."""
    return tw.sms(from_=phone, to=ELDERLY_NUMBER, body=body, **extra)


def snapshot(db, call) -> tuple:
    case = case_of(db, call)
    return (case.status, case.acknowledged_by_id, case.acknowledged_at, len(case.events), case.alert_round)


# --- who is alerted and what they read ---------------------------------------------------------------------

def test_voicemail_alerts_every_officer_of_the_calls_chain_and_the_supervisors(tw, chain, run_worker, fake_twilio):
    voicemail_call(tw)
    run_worker()
    assert recipients(fake_twilio) == CHAIN  # not the elderly line, not an officer off duty


def test_missed_call_alerts_every_officer_of_the_calls_chain_and_the_supervisors(tw, chain, run_worker, fake_twilio):
    missed_call(tw)
    run_worker()
    assert recipients(fake_twilio) == CHAIN


def test_alert_is_queued_by_the_call_and_sent_by_the_worker(tw, db, chain, run_worker, fake_twilio):
    voicemail_call(tw)
    queued = list(db.scalars(select(Message).where(Message.key.like("case-alert:%"))))
    assert sorted(m.to_phone for m in queued) == CHAIN and fake_twilio.messages == []
    run_worker()
    assert len(alerts(fake_twilio)) == len(CHAIN)


def test_alert_names_the_case_code_the_callers_number_and_how_to_acknowledge(tw, db, chain, run_worker, fake_twilio):
    code = case_of(db, voicemail_call(tw)).code
    run_worker()
    for message in alerts(fake_twilio):
        assert code in message["body"]
        assert "13904761234" in message["body"]  # to call back
        assert f"收到 {code}" in message["body"]


def test_missed_alert_says_the_caller_hung_up_and_voicemail_alert_says_a_message_was_left(tw, db, chain, run_worker,
                                                                                           fake_twilio):
    voicemail_call(tw)
    missed_call(tw, SECOND_CALLER)
    run_worker()
    bodies = {("有留言" in m["body"], "未接通" in m["body"], "13904760000" in m["body"]) for m in alerts(fake_twilio)}
    assert bodies == {(True, False, False), (False, True, True)}


def test_alert_never_contains_the_recording_url(tw, chain, run_worker, fake_twilio):
    voicemail_call(tw)
    run_worker()
    for message in alerts(fake_twilio):
        assert RECORDING_SID not in message["body"] and "http" not in message["body"].lower()


@pytest.mark.parametrize("caller", [CALLER, "+864768223344", "anonymous"], ids=["mobile", "landline", "anonymous"])
def test_alert_fits_one_sms_segment(tw, chain, run_worker, fake_twilio, caller):
    voicemail_call(tw, from_=caller)
    run_worker()
    assert alerts(fake_twilio)
    for message in alerts(fake_twilio):
        assert count_segments(message["body"]) == 1, message["body"]


def test_answered_call_alerts_nobody(tw, db, chain, run_worker, fake_twilio):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    leg, screen = screen_leg(tw, call, tier1, TIER1_A)
    leg.follow(screen, Digits="1")
    dial_ended(call, tier1, status="completed", CallStatus="completed")
    call.status("completed", CallDuration="200")
    run_worker()
    assert fake_twilio.messages == [] and fake_twilio.calls == []


# --- repeats --------------------------------------------------------------------------------------------

def test_alert_repeats_after_alert_repeat_seconds_while_unacknowledged(tw, db, chain, run_worker, fake_twilio):
    call = voicemail_call(tw)
    run_worker()
    wait_for_next_round(db, call)
    run_worker()
    assert recipients(fake_twilio) == sorted(CHAIN * 2)
    assert case_of(db, call).alert_round == 2


@pytest.mark.parametrize("settings", [{"alert_repeat_seconds": 300}], indirect=True, ids=["repeat-300s"])
def test_alert_is_not_repeated_before_alert_repeat_seconds(tw, db, chain, run_worker, fake_twilio):
    call = voicemail_call(tw)
    run_worker()
    run_worker()
    assert recipients(fake_twilio) == CHAIN
    case = case_of(db, call)
    assert case.alert_round == 1
    assert 295 <= (case.next_alert_at - case.events[-1].at).total_seconds() <= 305


def test_alert_round_is_an_event_on_the_case(tw, db, chain):
    events = [e for e in case_of(db, voicemail_call(tw)).events if e.kind == "alert"]
    assert [e.detail for e in events] == ["round 1: SMS to 5 officer(s), 0 call(s)"]


def test_after_alert_max_repeats_rounds_the_supervisors_also_get_a_voice_call(tw, db, chain, run_worker, fake_twilio):
    call = voicemail_call(tw)
    run_worker()  # round 1
    wait_for_next_round(db, call)
    run_worker()  # round 2 = ALERT_MAX_REPEATS
    assert fake_twilio.calls == []
    wait_for_next_round(db, call)
    run_worker()  # round 3
    assert [c["to"] for c in fake_twilio.calls] == [SUPERVISOR]
    assert recipients(fake_twilio) == sorted(CHAIN * 3)  # the SMS go on too


def supervisor_call(tw, run_worker, fake_twilio) -> dict:
    """The supervisor's alert call for a voicemail, with ALERT_MAX_REPEATS 0 (a call from the first round on)."""
    voicemail_call(tw)
    run_worker()
    assert len(fake_twilio.calls) == 1
    return fake_twilio.calls[0]


@pytest.mark.parametrize("settings", [{"alert_max_repeats": 0}], indirect=True, ids=["max-0"])
def test_supervisor_call_reads_the_case_and_gathers_1_for_the_ack_url(tw, db, chain, run_worker, fake_twilio):
    placed = supervisor_call(tw, run_worker, fake_twilio)
    case = db.scalar(select(Case))
    gather = ET.fromstring(placed["twiml"]).find("Gather")
    assert gather.get("numDigits") == "1"
    action = urlsplit(gather.get("action"))
    assert action.path == "/twilio/voice/ack"
    assert action.query == f"case={case.code}&officer={chain['sup'].id}&end=1"
    spoken = "".join(gather.itertext())
    assert " ".join(case.code) in spoken and "按1" in spoken
    assert RECORDING_SID not in placed["twiml"]


@pytest.mark.parametrize("settings", [{"alert_max_repeats": 0}], indirect=True, ids=["max-0"])
def test_supervisor_pressing_1_on_the_alert_call_acknowledges_the_case(tw, db, chain, run_worker, fake_twilio):
    placed = supervisor_call(tw, run_worker, fake_twilio)
    action = ack_action(placed)
    leg = tw.new_call(from_=placed["from_"], to=SUPERVISOR, direction="outbound-api")
    resp = leg.post(action, Digits="1")
    assert "已确认" in "".join(parse_twiml(resp).itertext())
    db.expire_all()
    case = db.scalar(select(Case))
    assert case.status == "acknowledged" and case.acknowledged_by_id == chain["sup"].id
    assert case.events[-1].kind == "acknowledged" and "voice" in case.events[-1].detail


def ack_action(placed: dict) -> str:
    return path_of(ET.fromstring(placed["twiml"]).find("Gather").get("action"))


def ack_path(case: Case, officer) -> str:
    return f"/twilio/voice/ack?case={case.code}&officer={officer.id}&end=1"


@pytest.mark.parametrize("digits", [{"Digits": "2"}, {}], ids=["2", "silence"])
def test_supervisor_pressing_anything_but_1_does_not_acknowledge(tw, db, chain, digits):
    call = voicemail_call(tw)
    before = snapshot(db, call)
    leg = tw.new_call(from_=ELDERLY_NUMBER, to=SUPERVISOR, direction="outbound-api")
    assert "Hangup" in [el.tag for el in parse_twiml(leg.post(ack_path(case_of(db, call), chain["sup"]), **digits))]
    assert snapshot(db, call) == before


def test_unsigned_ack_call_is_refused_and_changes_nothing(tw, db, chain):
    call = voicemail_call(tw)
    before = snapshot(db, call)
    resp = tw.post(ack_path(case_of(db, call), chain["sup"]),
                   {"CallSid": "CA" + "5" * 32, "From": ELDERLY_NUMBER, "To": SUPERVISOR, "Digits": "1"}, signed=False)
    assert resp.status_code == 403
    assert snapshot(db, call) == before


def test_ack_call_for_another_case_than_it_was_signed_for_is_refused(tw, db, chain):
    first, second = voicemail_call(tw), voicemail_call(tw, SECOND_CALLER)
    params = {"CallSid": "CA" + "5" * 32, "From": ELDERLY_NUMBER, "To": SUPERVISOR, "Digits": "1"}
    signature = tw.signature_for(ack_path(case_of(db, first), chain["sup"]), params)
    resp = tw.post(ack_path(case_of(db, second), chain["sup"]), params, signature=signature)
    assert resp.status_code == 403
    assert case_of(db, second).status == "voicemail" and case_of(db, first).status == "voicemail"


def test_voice_ack_after_an_sms_ack_keeps_the_first_acknowledgement(tw, db, chain):
    call = voicemail_call(tw)
    code = case_of(db, call).code
    sms(tw, TIER2, f"ACK {code}")
    leg = tw.new_call(from_=ELDERLY_NUMBER, to=SUPERVISOR, direction="outbound-api")
    leg.post(ack_path(case_of(db, call), chain["sup"]), Digits="1")
    case = case_of(db, call)
    assert case.acknowledged_by_id == chain["c"].id
    assert [e.kind for e in case.events].count("acknowledged") == 1


# --- acknowledgement by SMS ----------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["ACK {code}", "收到 {code}", "ACK", "收到"],
                         ids=["ACK-code", "shoudao-code", "bare-ACK", "bare-shoudao"])
def test_officer_acknowledges_by_sms(tw, db, chain, body):
    call = voicemail_call(tw)
    code = case_of(db, call).code
    reply = answer(sms(tw, TIER2, body.format(code=code)))
    assert f"已确认个案{code}" in reply
    case = case_of(db, call)
    assert case.status == "acknowledged" and case.acknowledged_by_id == chain["c"].id
    assert case.acknowledged_at is not None


def test_missed_case_is_acknowledged_by_sms_too(tw, db, chain):
    call = missed_call(tw)
    sms(tw, TIER1_A, f"收到 {case_of(db, call).code}")
    assert case_of(db, call).status == "acknowledged"


def test_ack_reply_fits_one_sms_segment_and_gives_the_number_to_call_back(tw, db, chain):
    code = case_of(db, voicemail_call(tw)).code
    reply = answer(sms(tw, TIER1_A, f"ACK {code}"))
    assert "13904761234" in reply and count_segments(reply) == 1


def test_acknowledgement_is_an_event_naming_the_officer(tw, db, chain):
    call = voicemail_call(tw)
    sms(tw, TIER1_B, f"ACK {case_of(db, call).code}")
    event = case_of(db, call).events[-1]
    assert event.kind == "acknowledged" and "一线乙" in event.detail and "sms" in event.detail


def test_no_further_round_after_acknowledgement(tw, db, chain, run_worker, fake_twilio):
    call = voicemail_call(tw)
    run_worker()
    due = case_of(db, call).next_alert_at
    sms(tw, TIER1_A, f"ACK {case_of(db, call).code}")
    time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.05)
    run_worker()
    assert recipients(fake_twilio) == CHAIN  # round 1 only
    case = case_of(db, call)
    assert case.alert_round == 1 and case.next_alert_at is None


def test_bare_ack_acknowledges_the_newest_unacknowledged_case_alerted_to_that_officer(tw, db, chain):
    older, newer = voicemail_call(tw), voicemail_call(tw, SECOND_CALLER)
    reply = answer(sms(tw, TIER1_A, "收到"))
    assert case_of(db, newer).code in reply
    assert case_of(db, newer).status == "acknowledged" and case_of(db, older).status == "voicemail"


def test_bare_ack_skips_an_already_acknowledged_case(tw, db, chain):
    older, newer = voicemail_call(tw), voicemail_call(tw, SECOND_CALLER)
    sms(tw, TIER2, f"ACK {case_of(db, newer).code}")
    sms(tw, TIER1_A, "ACK")
    assert case_of(db, older).acknowledged_by_id == chain["a"].id


def test_bare_ack_skips_a_newer_case_not_alerted_to_that_officer(tw, db, chain):
    older = voicemail_call(tw)
    shift = db.scalar(select(RotaShift).where(RotaShift.officer_id == chain["a"].id))
    shift.ends_at = utcnow()  # 一线甲 goes off duty: the next call's chain does not include them
    db.commit()
    newer = voicemail_call(tw, SECOND_CALLER)
    assert not db.scalar(select(Message).where(Message.case_id == case_of(db, newer).id, Message.to_phone == TIER1_A))
    sms(tw, TIER1_A, "ACK")
    assert case_of(db, older).status == "acknowledged" and case_of(db, newer).status == "voicemail"


def test_bare_ack_with_nothing_to_acknowledge_is_told_so(tw, db, chain):
    reply = answer(sms(tw, TIER1_A, "ACK"))
    assert "没有待确认" in reply


def test_ack_from_an_unknown_number_gets_a_short_reply_and_changes_nothing(tw, db, chain):
    call = voicemail_call(tw)
    before = snapshot(db, call)
    reply = answer(sms(tw, "+8613911112222", f"ACK {case_of(db, call).code}"))
    assert reply and count_segments(reply) == 1
    assert case_of(db, call).code not in reply
    assert snapshot(db, call) == before


@pytest.mark.parametrize("wrong", ["999999", "1234567"], ids=["other-code", "long"])
def test_ack_with_a_wrong_code_is_told_not_found_and_changes_nothing(tw, db, chain, wrong):
    call = voicemail_call(tw)
    assert case_of(db, call).code != wrong
    before = snapshot(db, call)
    reply = answer(sms(tw, TIER1_A, f"ACK {wrong}"))
    assert "未找到" in reply and wrong in reply
    assert snapshot(db, call) == before


def test_ack_for_an_answered_case_is_not_found(tw, db, chain):
    call = child_call(tw)
    leg, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_A)
    leg.follow(screen, Digits="1")
    reply = answer(sms(tw, TIER1_B, f"ACK {case_of(db, call).code}"))
    assert "未找到" in reply and case_of(db, call).status == "answered"


def test_second_officers_ack_is_told_who_acknowledged_first(tw, db, chain):
    call = voicemail_call(tw)
    code = case_of(db, call).code
    sms(tw, TIER1_A, f"ACK {code}")
    reply = answer(sms(tw, TIER2, f"收到 {code}"))
    assert "一线甲" in reply and code in reply
    assert case_of(db, call).acknowledged_by_id == chain["a"].id


def test_retried_ack_sms_has_one_effect(tw, db, chain):
    call = voicemail_call(tw)
    code = case_of(db, call).code
    first = answer(sms(tw, TIER1_A, f"ACK {code}", sid="SM" + "4" * 32))
    again = answer(sms(tw, TIER1_A, f"ACK {code}", sid="SM" + "4" * 32))
    assert first == again and f"已确认个案{code}" in again
    assert [e.kind for e in case_of(db, call).events].count("acknowledged") == 1


def test_officer_texting_something_else_is_told_how_to_acknowledge(tw, db, chain):
    call = voicemail_call(tw)
    before = snapshot(db, call)
    reply = answer(sms(tw, TIER1_A, "你好"))
    assert "收到" in reply
    assert snapshot(db, call) == before


def test_officer_outside_the_calls_chain_cannot_acknowledge_or_learn_of_the_case(tw, db, chain, run_worker):
    call = voicemail_call(tw)
    run_worker()
    case = case_of(db, call)
    reply = answer(sms(tw, ELDERLY_OFFICER, f"收到 {case.code}"))
    assert "未找到" in reply and CALLER[3:] not in reply
    assert case_of(db, call).status == "voicemail"
