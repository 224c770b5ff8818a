"""Child-line alerts: who is alerted about a missed call or a voicemail, and what the SMS says."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Message
from tests.dispatch.case_alert_helpers import CHAIN, SECOND_CALLER, alerts, chain, recipients, settings  # noqa: F401 - fixtures
from tests.twilio_fake import count_segments
from tests.webhooks.child_calls import (
    CALLER,
    RECORDING_SID,
    TIER1_A,
    case_of,
    child_call,
    dial_ended,
    missed_call,
    screen_leg,
    voicemail_call,
)

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
