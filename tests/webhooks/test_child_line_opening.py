"""A child-line call opens its case: the greeting, the case committed first, unsigned webhooks refused."""
from __future__ import annotations

import re

import pytest

from hotline.webhooks import operator
from models import CallLog, Case, Message
from tests.conftest import CHILD_NUMBER, ELDERLY_NUMBER
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import (
    CALLER,
    FOREIGN_RECORDING,
    case_of,
    chain,  # noqa: F401 - fixtures
    child_call,
    count,
    event_kinds,
    verbs,
)

# --- the greeting ---------------------------------------------------------------------------------------

def test_greeting_is_calm_mandarin_and_tells_a_caller_in_danger_to_hang_up_and_dial_110(tw, chain):
    resp = child_call(tw).post("/twilio/voice")
    root = parse_twiml(resp)
    greeting = "".join("".join(s.itertext()) for s in root.findall("Say"))
    assert "110" in greeting and "未成年人保护热线" in greeting
    for say in root.findall("Say"):
        assert say.get("language") == "cmn-CN" and say.get("voice")
    assert root.find("Gather") is None  # no menu to get lost in


def test_greeting_is_short(tw, chain):
    greeting = "".join("".join(s.itertext()) for s in parse_twiml(child_call(tw).post("/twilio/voice")).findall("Say"))
    assert len(re.findall(r"[\u4e00-\u9fff]", greeting)) <= 60  # ~15 s of slow Mandarin


def test_greeting_is_spoken_before_the_first_ring(tw, chain):
    tags = verbs(child_call(tw).post("/twilio/voice"))
    assert tags.index("Say") < tags.index("Dial")


# --- the case is committed first -------------------------------------------------------------------------

def test_case_is_committed_at_the_first_webhook(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    case = case_of(db, call)
    assert case is not None and case.status == "ringing"
    assert case.caller == CALLER and re.fullmatch(r"\d{6}", case.code)
    assert event_kinds(case)[0] == "call"


def test_case_is_committed_before_the_first_twiml_is_built(tw, db, chain, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("TwiML could not be built")

    monkeypatch.setattr(operator, "operator_response", broken)
    call = child_call(tw)
    with pytest.raises(RuntimeError):
        call.post("/twilio/voice")
    assert case_of(db, call).status == "ringing"


def test_retried_first_webhook_keeps_one_case(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    call.post("/twilio/voice")
    assert count(db, Case) == 1


def test_elderly_line_calls_open_no_case(tw, db, chain):
    call = tw.new_call(from_=CALLER, to=ELDERLY_NUMBER)
    call.follow(call.post("/twilio/voice"), Digits="0")
    assert count(db, Case) == 0


# --- bad inputs -------------------------------------------------------------------------------------------

CHILD_PARAMS = {"CallSid": "CA" + "7" * 32, "AccountSid": "AC" + "1" * 32, "From": CALLER, "To": CHILD_NUMBER,
                "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
UNSIGNED = [
    ("/twilio/voice", {}),
    ("/twilio/voice/message", {"RecordingUrl": FOREIGN_RECORDING, "RecordingSid": "RE" + "1" * 32}),
    ("/twilio/voice/ack?case=123456&officer=1&end=1", {"Digits": "1"}),
]


@pytest.mark.parametrize("path,extra", UNSIGNED, ids=[p.split("?")[0].rsplit("/", 1)[-1] for p, _ in UNSIGNED])
def test_unsigned_child_line_webhook_is_refused_and_opens_no_case(tw, db, chain, path, extra):
    resp = tw.post(path, {**CHILD_PARAMS, **extra}, signed=False)
    assert resp.status_code == 403
    assert count(db, Case) == 0 and count(db, CallLog) == 0 and count(db, Message) == 0
