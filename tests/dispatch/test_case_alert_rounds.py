"""Child-line alerts repeat in rounds while unacknowledged, then the supervisors also get a voice call.

ALERT_REPEAT_SECONDS is 1 here (ALERT_MAX_REPEATS 2), so a test waits about a second for the next round.
"""
from __future__ import annotations

import time

import pytest

from models import utcnow
from tests.dispatch.case_alert_helpers import CHAIN, REPEAT_SECONDS, chain, recipients, settings  # noqa: F401 - fixtures
from tests.webhooks.child_calls import SUPERVISOR, case_of, voicemail_call


def wait_for_next_round(db, call) -> None:
    """Sleep until the case's next alert round is due (about ALERT_REPEAT_SECONDS)."""
    due = case_of(db, call).next_alert_at
    assert due is not None, "no further alert round is scheduled"
    wait = (due - utcnow()).total_seconds()
    assert wait <= REPEAT_SECONDS, f"the next round is due in {wait:.1f} s, not after ALERT_REPEAT_SECONDS"
    time.sleep(max(0.0, wait) + 0.05)


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
