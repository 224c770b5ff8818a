"""Short alert settings, the rota and readers of alert SMS shared by the child-line alert tests.

ALERT_REPEAT_SECONDS is 1 here (ALERT_MAX_REPEATS 2), so a test waits about a second for the next round.
"""
from __future__ import annotations

import pytest

from tests.conftest import ELDERLY_NUMBER
from tests.webhooks.child_calls import SUPERVISOR, TIER1_A, TIER1_B, TIER2, TIER3, case_of, staff

SECOND_CALLER = "+8613904760000"
# Short, but longer than a burst worker takes on a loaded 2-core machine: the round after the first must not
# fall due while the first is still being sent.
REPEAT_SECONDS = 3
CHAIN = sorted([TIER1_A, TIER1_B, TIER2, TIER3, SUPERVISOR])


@pytest.fixture
def settings(settings, request):
    """Short alert settings for the web app and the worker alike (a test may override through `indirect`)."""
    return settings.with_overrides(**{"alert_repeat_seconds": REPEAT_SECONDS, "alert_max_repeats": 2,
                                      **getattr(request, "param", {})})


@pytest.fixture
def chain(db):
    return staff(db)


def alerts(fake_twilio) -> list[dict]:
    """Alert SMS the fake Twilio accepted (officers' replies are TwiML, never REST messages)."""
    return [m for m in fake_twilio.messages if "个案" in m["body"]]


def recipients(fake_twilio) -> list[str]:
    return sorted(m["to"] for m in alerts(fake_twilio))


def sms(tw, phone: str, body: str, **extra):
    """An officer's SMS to the number the alerts come from."""
    return tw.sms(from_=phone, to=ELDERLY_NUMBER, body=body, **extra)


def snapshot(db, call) -> tuple:
    case = case_of(db, call)
    return (case.status, case.acknowledged_by_id, case.acknowledged_at, len(case.events), case.alert_round)
