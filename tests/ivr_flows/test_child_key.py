"""The child-line key of the elderly phone tree (both lines on one number): offered first, taken at every node.

Pure engine and TwiML, no Flask, no database; the signed-webhook walk is tests/webhooks/test_one_number.py.
"""
from __future__ import annotations

import pytest

from ivr_flows import engine, twiml as tw
from ivr_flows.prompts import text

LANG = "zh-CN"
KEY = "9"
OFFER = "未成年人求助请按9。"
GATHER_URL = "https://hotline.example.gov.cn/twilio/voice/menu?node=menu&end=1"


@pytest.fixture(scope="module")
def flow():
    """The elderly flow with 9 handing the call to the child line."""
    return engine.load_flow(engine.ELDERLY_FLOW, KEY)


@pytest.fixture(scope="module")
def plain():
    """The elderly flow as shipped: two numbers, no child-line key."""
    return engine.load_flow(engine.ELDERLY_FLOW)


def top(flow) -> engine.State:
    return engine.State(node=flow.start)


def confirm() -> engine.State:
    return engine.State(node="confirm", category="housekeeping")


def spoken(turn: engine.Turn) -> list[str]:
    """What the caller hears, in order: the sentences before the Gather, its lead, its prompt."""
    return [*turn.say, *turn.lead, turn.prompt]


# --- the offer -----------------------------------------------------------------------------------------

def test_the_offer_is_in_the_prompts_in_mandarin_and_english():
    assert text("zh-CN", "child_key_offer", digit=KEY) == OFFER
    assert text("en", "child_key_offer", digit=KEY) == "For help for a child, press 9."


def test_the_greeting_says_the_child_line_offer_first(flow):
    heard = spoken(engine.start(flow, LANG, None))
    assert heard == [OFFER, text(LANG, "greet_unknown"), text(LANG, "menu")]


def test_a_known_callers_greeting_by_name_comes_after_the_offer(flow):
    heard = spoken(engine.start(flow, LANG, "王秀英"))
    assert heard[0] == OFFER and "王秀英" in heard[1]


def test_the_offer_and_the_greeting_play_inside_the_gather_so_the_key_can_be_pressed_during_them(flow):
    root = tw.render_turn(engine.start(flow, LANG, None), LANG, GATHER_URL, flow.gather_timeout)
    verbs = [verb.name for verb in root.verbs]
    assert verbs == ["Gather", "Redirect"]  # nothing is said before the caller can press a key
    said = ["".join(str(s) for s in say.verbs) for say in root.verbs[0].verbs]
    assert OFFER in said[0] and text(LANG, "greet_unknown") in said[1]


@pytest.mark.parametrize("digits, before", [("*", ()), (None, ("greet_short",)), ("7", ("invalid",))],
                         ids=["repeat", "silence", "invalid-key"])
def test_the_top_menu_offers_the_child_line_first_again_whenever_it_is_said_again(flow, digits, before):
    turn = engine.step(flow, LANG, top(flow), digits)
    assert turn.ask is not None and turn.ask.node == flow.start
    assert spoken(turn) == [*(text(LANG, k) for k in before), OFFER, text(LANG, "menu")]


def test_choosing_again_from_the_confirmation_offers_the_child_line_again(flow):
    turn = engine.step(flow, LANG, confirm(), "2")
    assert turn.lead == (OFFER,)


def test_the_confirmation_does_not_repeat_the_offer(flow):
    turn = engine.step(flow, LANG, top(flow), "2")
    assert turn.ask == confirm() and turn.lead == ()


# --- the key -------------------------------------------------------------------------------------------

def test_the_key_at_the_top_menu_enters_the_child_line(flow):
    turn = engine.step(flow, LANG, top(flow), KEY)
    assert (turn.action, turn.ask, turn.key_record) == ("child_line", None, KEY)


def test_the_key_at_the_confirmation_enters_the_child_line_too(flow):
    assert engine.step(flow, LANG, confirm(), KEY).action == "child_line"


def test_the_key_after_silences_and_invalid_keys_still_enters_the_child_line(flow):
    state = engine.State(node=flow.start, silences=1, invalid=2)
    assert engine.step(flow, LANG, state, KEY).action == "child_line"


@pytest.mark.parametrize("digits, expected", [("1", ("confirm", "daily_care")), ("5", ("emergency", "emergency")),
                                              ("0", ("operator", ""))])
def test_the_elderly_options_stay_as_they_were(flow, plain, digits, expected):
    with_key = engine.step(flow, LANG, top(flow), digits)
    without = engine.step(plain, LANG, top(plain), digits)
    got = (with_key.ask.node, with_key.ask.category) if with_key.ask else (with_key.action, with_key.category)
    assert got == expected
    assert (with_key.action, with_key.category, with_key.ask, with_key.key_record) == (
        without.action, without.category, without.ask, without.key_record)


def test_without_the_setting_9_is_an_invalid_key_and_nothing_is_offered(plain):
    turn = engine.step(plain, LANG, top(plain), KEY)
    assert turn.action == "" and turn.key_record == "?" and turn.say == (text(LANG, "invalid"),)
    assert OFFER not in spoken(engine.start(plain, LANG, None))


def test_without_the_setting_the_greeting_is_said_before_the_gather_as_before(plain):
    turn = engine.start(plain, LANG, None)
    assert turn.say == (text(LANG, "greet_unknown"),) and turn.lead == ()


# --- which keys may be the child line's --------------------------------------------------------------

def test_the_keys_the_elderly_menu_uses_are_known():
    assert engine.keys_in_use(engine.ELDERLY_FLOW) == frozenset("0123458*")  # 8: the technicians' clock-in


@pytest.mark.parametrize("key", list("679"))
def test_a_digit_the_elderly_menu_does_not_use_can_be_the_child_line_key(key):
    assert engine.child_key_problem(engine.ELDERLY_FLOW, key) is None


@pytest.mark.parametrize("key", ["1", "0", "8", "*", "#", "99", "a", "９"])
def test_a_used_key_or_anything_but_one_digit_cannot(key):
    assert engine.child_key_problem(engine.ELDERLY_FLOW, key)


def test_a_flow_with_a_used_key_is_refused_rather_than_losing_an_elderly_option():
    with pytest.raises(ValueError, match="already a key"):
        engine.load_flow(engine.ELDERLY_FLOW, "5")
