"""The elderly phone tree as a pure engine: what each key, silence and tampered state leads to (no Flask, no DB)."""
from __future__ import annotations

import pytest

from ivr_flows import engine
from ivr_flows.prompts import catalogue, text

LANG = "zh-CN"
KEYS = tuple("0123456789*#")
MENU_CATEGORIES = {"1": "daily_care", "2": "housekeeping", "3": "companionship", "4": "legal_aid"}
ACTIONS = ("commit", "emergency", "operator")


@pytest.fixture(scope="module")
def flow():
    """The elderly flow as shipped."""
    return engine.load_flow("elderly")


def menu(flow) -> engine.State:
    return engine.State(node=flow.start)


def confirm(category: str) -> engine.State:
    return engine.State(node="confirm", category=category)


def step(flow, state, digits):
    return engine.step(flow, LANG, state, digits)


# --- the first turn ---------------------------------------------------------------------------------

def test_known_caller_is_greeted_by_name_then_asked_at_the_top_menu(flow):
    turn = engine.start(flow, LANG, "王秀英")
    assert turn.say == (text(LANG, "greet_known", name="王秀英"),)
    assert "王秀英" in turn.say[0]
    assert turn.ask == menu(flow)
    assert turn.prompt == text(LANG, "menu")


def test_unknown_caller_is_greeted_without_a_name(flow):
    turn = engine.start(flow, LANG, None)
    assert turn.say == (text(LANG, "greet_unknown"),)
    assert turn.ask == menu(flow)


def test_top_menu_lists_the_most_common_services_first_and_how_to_reach_a_person(flow):
    prompt = engine.start(flow, LANG, None).prompt
    order = ["生活照料请按1", "家政维修请按2", "精神慰藉请按3", "法律维护请按4", "紧急救援请按5", "转人工请按0", "星号"]
    positions = [prompt.index(part) for part in order]
    assert positions == sorted(positions)


def test_the_caller_gets_at_least_ten_seconds_to_press_a_key(flow):
    assert flow.gather_timeout >= 10


# --- the top menu -----------------------------------------------------------------------------------

@pytest.mark.parametrize("key,category", sorted(MENU_CATEGORIES.items()))
def test_menu_key_for_a_service_asks_to_confirm_that_service(flow, key, category):
    turn = step(flow, menu(flow), key)
    assert turn.action == ""
    assert turn.ask == confirm(category)
    assert text(LANG, f"category_{category}") in turn.prompt
    assert "确认请按1" in turn.prompt and "重新选择请按2" in turn.prompt
    assert turn.key_record == key


def test_menu_key_5_is_an_emergency_at_once_without_a_confirmation(flow):
    turn = step(flow, menu(flow), "5")
    assert turn.ask is None
    assert turn.action == "emergency" and turn.category == "emergency"
    assert turn.key_record == "5"


@pytest.mark.parametrize("node", ["menu", "confirm"])
def test_0_from_any_menu_goes_to_a_person(flow, node):
    state = engine.State(node=node, category="housekeeping" if node == "confirm" else "")
    turn = step(flow, state, "0")
    assert turn.ask is None and turn.action == "operator"
    assert turn.key_record == "0"


def test_every_node_of_the_flow_sends_0_to_a_person(flow):
    for node in flow.nodes:
        assert flow.nodes[node]["options"].get("0") == {"operator": True}, node


@pytest.mark.parametrize("state,prompt", [
    (engine.State(node="menu"), text(LANG, "menu")),
    (engine.State(node="confirm", category="legal_aid"), text(LANG, "confirm", category="法律维护")),
], ids=["menu", "confirm"])
def test_star_repeats_the_same_menu(flow, state, prompt):
    turn = step(flow, state, "*")
    assert turn.ask == state
    assert turn.prompt == prompt
    assert turn.say == () and turn.action == ""
    assert turn.key_record == "*"


# --- the confirmation -------------------------------------------------------------------------------

@pytest.mark.parametrize("category", sorted(MENU_CATEGORIES.values()))
def test_confirm_1_commits_the_chosen_category(flow, category):
    turn = step(flow, confirm(category), "1")
    assert turn.ask is None
    assert turn.action == "commit" and turn.category == category
    assert turn.key_record == "1"


def test_confirm_2_goes_back_to_the_top_menu(flow):
    turn = step(flow, confirm("companionship"), "2")
    assert turn.action == ""
    assert turn.ask == menu(flow)
    assert turn.prompt == text(LANG, "menu")


def test_option_1_of_every_sub_menu_is_valid(flow):
    for name, node in flow.nodes.items():
        assert "1" in node["options"], name


# --- silence ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("silence", [None, ""])
def test_first_silence_re_prompts_with_the_short_re_greeting_and_the_same_menu(flow, silence):
    turn = step(flow, menu(flow), silence)
    assert turn.say == (text(LANG, "greet_short"),)
    assert text(LANG, "greet_known", name="x") not in turn.say
    assert turn.ask == engine.State(node="menu", silences=1)
    assert turn.prompt == text(LANG, "menu")
    assert turn.key_record == "_"


def test_silence_at_the_confirmation_keeps_the_chosen_category(flow):
    turn = step(flow, confirm("legal_aid"), None)
    assert turn.ask == engine.State(node="confirm", category="legal_aid", silences=1)
    assert text(LANG, "category_legal_aid") in turn.prompt


def test_second_silence_goes_to_a_person(flow):
    first = step(flow, menu(flow), None)
    second = step(flow, first.ask, None)
    assert second.ask is None and second.action == "operator"
    assert second.key_record == "_"


def test_second_silence_at_the_confirmation_goes_to_a_person(flow):
    first = step(flow, confirm("daily_care"), "")
    second = step(flow, first.ask, "")
    assert second.action == "operator"


# --- invalid keys -----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["6", "7", "8", "9", "#"])
def test_an_invalid_key_at_the_menu_is_told_so_and_the_menu_is_asked_again(flow, key):
    turn = step(flow, menu(flow), key)
    assert turn.say == (text(LANG, "invalid"),)
    assert "无效" in turn.say[0]
    assert turn.ask == engine.State(node="menu", invalid=1)
    assert turn.prompt == text(LANG, "menu")
    assert turn.key_record == "?"


def test_an_invalid_key_at_the_confirmation_is_told_so_and_keeps_the_category(flow):
    turn = step(flow, confirm("housekeeping"), "3")
    assert turn.say == (text(LANG, "invalid"),)
    assert turn.ask == engine.State(node="confirm", category="housekeeping", invalid=1)
    assert text(LANG, "category_housekeeping") in turn.prompt


def test_third_invalid_key_is_told_so_and_goes_to_a_person(flow):
    state = menu(flow)
    for _ in range(2):
        turn = step(flow, state, "9")
        assert turn.ask is not None
        state = turn.ask
    third = step(flow, state, "9")
    assert third.say == (text(LANG, "invalid"),)
    assert third.ask is None and third.action == "operator"
    assert third.key_record == "?"


def test_only_the_first_of_several_digits_counts(flow):
    assert step(flow, menu(flow), "29").ask == confirm("housekeeping")


# --- state carried in the URL -----------------------------------------------------------------------

def test_state_survives_the_round_trip_through_url_parameters(flow):
    state = engine.State(node="confirm", category="legal_aid", silences=1, invalid=2)
    assert engine.State.from_params(state.as_params(), flow) == state


@pytest.mark.parametrize("params", [
    {},
    {"node": "nowhere"},
    {"node": "../../etc/passwd"},
    {"node": ""},
], ids=["none", "unknown", "path-like", "empty"])
def test_unknown_node_in_the_url_restarts_at_the_top_menu(flow, params):
    state = engine.State.from_params(params, flow)
    assert state == menu(flow)


@pytest.mark.parametrize("category", ["nonsense", "", "DAILY_CARE", "daily_care;drop"])
def test_confirmation_with_an_unknown_category_in_the_url_restarts_at_the_top_menu(flow, category):
    state = engine.State.from_params({"node": "confirm", "category": category}, flow)
    assert state == menu(flow)


def test_confirming_a_state_that_lost_its_category_restarts_instead_of_committing(flow):
    turn = step(flow, engine.State(node="confirm", category=""), "1")
    assert turn.action == ""
    assert turn.ask == menu(flow)


@pytest.mark.parametrize("raw,expected", [("-5", 0), ("abc", 0), ("", 0), (None, 0), ("1e9", 0), ("100000", 99)])
def test_counters_in_the_url_are_clamped_to_small_non_negative_numbers(flow, raw, expected):
    params = {"node": "menu", "silences": raw, "invalid": raw}
    state = engine.State.from_params({k: v for k, v in params.items() if v is not None}, flow)
    assert state.silences == expected and state.invalid == expected


def test_a_tampered_huge_silence_count_sends_the_next_silence_to_a_person_not_an_error(flow):
    state = engine.State.from_params({"node": "menu", "silences": "100000"}, flow)
    assert step(flow, state, None).action == "operator"


# --- no dead ends -----------------------------------------------------------------------------------

def _every_state(flow):
    """Every state a signed callback URL can carry, as the web layer reads it back."""
    for node in list(flow.nodes) + ["tampered"]:
        for category in ("", "tampered") + flow.categories:
            for silences in range(flow.max_silences):
                for invalid in range(flow.max_invalid):
                    raw = engine.State(node=node, category=category, silences=silences, invalid=invalid)
                    yield engine.State.from_params(raw.as_params(), flow)


def test_no_state_is_a_dead_end(flow):
    """Every node x every key (0-9, *, #) and silence gives a Turn that either asks again or acts."""
    walked = 0
    for state in _every_state(flow):
        for key in KEYS + (None, ""):
            turn = step(flow, state, key)
            walked += 1
            where = f"{state} key={key!r}"
            assert (turn.ask is None) != (turn.action == ""), f"neither or both ask and action at {where}"
            if turn.ask is not None:
                assert turn.ask.node in flow.nodes, where
                assert turn.prompt.strip(), where
                assert "{" not in turn.prompt, where
                if turn.ask.node == "confirm":
                    assert turn.ask.category in flow.categories, where
            else:
                assert turn.action in ACTIONS, where
                if turn.action in ("commit", "emergency"):
                    assert turn.category in flow.categories, where
            assert turn.key_record, where
    assert walked >= len(flow.nodes) * len(KEYS)


def test_every_node_is_reachable_from_the_start_and_can_be_left_by_a_key(flow):
    seen, todo = set(), [menu(flow)]
    while todo:
        state = todo.pop()
        if (state.node, state.category) in seen:
            continue
        seen.add((state.node, state.category))
        exits = [step(flow, state, key) for key in KEYS]
        assert any(t.action for t in exits), f"no key at {state} leads to an action"
        todo += [engine.State(node=t.ask.node, category=t.ask.category) for t in exits if t.ask is not None]
    assert {node for node, _ in seen} == set(flow.nodes)


# --- prompts as data --------------------------------------------------------------------------------

def test_every_prompt_exists_in_chinese_and_english():
    assert set(catalogue("zh-CN")) == set(catalogue("en"))


def test_every_prompt_the_flow_names_exists_with_each_category_name(flow):
    for node in flow.nodes.values():
        assert node["prompt"] in catalogue(LANG)
    for category in flow.categories:
        assert text(LANG, f"category_{category}")
