"""Child-line alerts acknowledged by SMS: with or without the case code, once, and only by the call's chain."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from models import Message, RotaShift, utcnow
from tests.dispatch.case_alert_helpers import CHAIN, SECOND_CALLER, chain, recipients, settings, sms, snapshot  # noqa: F401 - fixtures
from tests.orders import answer
from tests.twilio_fake import count_segments
from tests.webhooks.child_calls import (
    CALLER,
    ELDERLY_OFFICER,
    TIER1_A,
    TIER1_B,
    TIER2,
    case_of,
    child_call,
    missed_call,
    screen_leg,
    voicemail_call,
)

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
