"""The elderly line's greeting and menu: who is greeted how, and how silence, bad keys and 0 lead to a person."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from models import Order
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.twilio_client import parse_twiml
from tests.webhooks.elderly_calls import (  # noqa: F401 - fixtures
    MENU_PATH,
    OFFICER_A,
    OFFICER_B,
    UNKNOWN_CALLER,
    call_log,
    count,
    dial_of,
    dialled,
    path_of,
    resident,
    says,
    silence,
    tier1,
    tier2,
    to_a_person,
    verbs,
)

# --- the greeting -----------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [people.RESIDENT_MOBILE, people.RESIDENT_LANDLINE], ids=["mobile", "landline"])
def test_known_caller_is_greeted_by_name_from_any_of_their_numbers(tw, db, resident, number):
    call = tw.new_call(from_=number, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    assert "王秀英您好" in says(resp)
    assert call_log(db, call).resident_id == resident.id


def test_unknown_caller_is_greeted_generically(tw, db, resident):
    call = tw.new_call(from_=UNKNOWN_CALLER, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    assert "您好，这里是巴林左旗养老服务热线" in says(resp)
    assert "王秀英" not in says(resp)
    assert call_log(db, call).resident_id is None


def test_greeting_is_slow_mandarin_in_a_named_voice_and_waits_for_one_key(tw, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    root = parse_twiml(call.post("/twilio/voice"))
    for say in root.iter("Say"):
        assert say.get("language") == "cmn-CN"
        assert say.get("voice")
        assert say.find("prosody").get("rate") == "slow"
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    assert int(gather.get("timeout")) >= 10
    assert path_of(gather.get("action")).startswith(MENU_PATH)
    assert "生活照料请按1" in "".join(gather.itertext())


# --- silence, invalid keys and 0 lead to a person -----------------------------------------------------

def test_first_silence_repeats_the_menu_with_the_short_re_greeting(tw, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = silence(call, call.post("/twilio/voice"))
    assert "请您选择服务" in says(resp)
    assert "王秀英您好" not in says(resp)
    assert parse_twiml(resp).find("Gather") is not None
    assert "Dial" not in verbs(resp)


def test_two_silences_ring_every_tier_1_officer_at_once_with_screening(tw, db, resident, tier1, tier2):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = to_a_person(call)
    dial = dial_of(resp)
    assert len(parse_twiml(resp).findall("Dial")) == 1
    assert sorted(dialled(resp)) == sorted([OFFICER_A, OFFICER_B])
    assert dial.get("answerOnBridge") == "true"
    assert int(dial.get("timeout")) <= 25
    assert dial.get("action")
    for number in dial.findall("Number"):
        assert urlsplit(number.get("url")).path == "/twilio/voice/screen"
    assert "正在为您转接工作人员" in says(resp)
    log = call_log(db, call)
    assert log.path == "__" and log.outcome == "to-person"


def test_three_invalid_keys_are_each_told_and_then_ring_the_officers(tw, db, resident, tier1):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    for _ in range(2):
        resp = call.follow(resp, Digits="9")
        assert "您按的键无效" in says(resp)
        assert parse_twiml(resp).find("Gather") is not None
    resp = call.follow(resp, Digits="9")
    assert "您按的键无效" in says(resp)
    assert sorted(dialled(resp)) == sorted([OFFICER_A, OFFICER_B])
    assert call_log(db, call).path == "???"


def test_star_repeats_the_menu(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.post("/twilio/voice"), Digits="*")
    assert "生活照料请按1" in says(resp)
    assert "无效" not in says(resp)


@pytest.mark.parametrize("keys", [["0"], ["3", "0"]], ids=["at-menu", "at-confirmation"])
def test_0_rings_the_officers_from_any_menu(tw, db, resident, tier1, keys):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    for key in keys:
        resp = call.follow(resp, Digits=key)
    assert sorted(dialled(resp)) == sorted([OFFICER_A, OFFICER_B])
    assert count(db, Order) == 0
