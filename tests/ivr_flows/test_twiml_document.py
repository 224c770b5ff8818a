"""ivr_flows.twiml.document: the same TwiML text as twilio's own str(), for every kind of document we send."""
from __future__ import annotations

import pytest

from ivr_flows import engine, twiml as tw
from ivr_flows.prompts import spoken_digits, text

LANG = "zh-CN"
URL = "https://hotline.example.cn/twilio/voice/menu?node=confirm&category=housekeeping&path=2&end=1"


def _documents():
    flow = engine.load_flow("elderly")
    # A name with every character XML must escape, and a newline, as the registry could hold one.
    greeting = engine.start(flow, LANG, '张<桂>&"兰\'\n')
    yield "greeting", tw.render_turn(greeting, LANG, URL, flow.gather_timeout)
    yield "unknown caller", tw.render_turn(engine.start(flow, LANG, None), LANG, URL, flow.gather_timeout)
    yield "order code", tw.speak(LANG, [text(LANG, "order_code", digits=spoken_digits("012345")),
                                        text(LANG, "goodbye")], hangup=True)
    yield "redirect", tw.speak(LANG, ["请稍候"], then_redirect=URL)
    yield "dial", tw.dial_tier(LANG, [("+8613904761234", URL), ("+8613904765678", URL)], URL, 20,
                               before=["正在为您转接"], caller_id="+864768000002")
    yield "screening", tw.screening(LANG, "goodbye", URL)
    yield "record", tw.record_message(LANG, URL)
    yield "empty", tw.empty()


@pytest.mark.parametrize("name,response", list(_documents()), ids=[name for name, _ in _documents()])
def test_document_is_the_text_twilio_str_gives(name, response):
    assert tw.document(response) == str(response)


def test_a_memoised_menu_turn_is_the_same_document_as_rendering_it_afresh():
    flow = engine.load_flow("elderly")
    turn = engine.step(flow, LANG, engine.State(node=flow.start), "2")
    assert tw.turn_xml(turn, LANG, URL, flow.gather_timeout) == str(tw.render_turn(turn, LANG, URL,
                                                                                   flow.gather_timeout))


@pytest.mark.parametrize("name", [None, "张桂兰", '张<桂>&"兰\'\n'])
def test_a_greeting_with_its_memoised_menu_is_the_document_the_builders_make(name):
    flow = engine.load_flow("elderly")
    turn = engine.start(flow, LANG, name)
    assert tw.turn_document(turn, LANG, URL, flow.gather_timeout) == str(
        tw.render_turn(turn, LANG, URL, flow.gather_timeout))


def test_no_callers_name_reaches_a_memo(monkeypatch):
    memoised = []

    def recording(memo):
        def call(*args):
            memoised.append((args, memo(*args)))
            return memo(*args)
        return call

    monkeypatch.setattr(tw, "turn_xml", recording(tw.turn_xml))
    monkeypatch.setattr(tw, "_fixed_speech", recording(tw._fixed_speech))
    flow, child_first = engine.load_flow("elderly"), engine.load_flow("elderly", "9")
    for f, name in ((flow, "额尔敦毕力格图"), (child_first, "乌力吉巴雅尔图")):  # child key: greeting in the Gather
        document = tw.turn_document(engine.start(f, LANG, name), LANG, URL, f.gather_timeout)
        assert name in document
    code = text(LANG, "order_code", digits=spoken_digits("765432"))
    assert "7 6 5 4 3 2" in tw.speak_document(LANG, [code], (text(LANG, "goodbye"),), hangup=True)
    assert memoised  # the menu part and the goodbye were taken from the memos
    assert not any(secret in repr(entry) for entry in memoised
                   for secret in ("额尔敦毕力格图", "乌力吉巴雅尔图", "7 6 5 4 3 2"))


def test_speech_with_its_memoised_goodbye_is_the_document_the_builders_make():
    code = text(LANG, "order_code", digits=spoken_digits("012345"))
    fixed = (text(LANG, "promise"), text(LANG, "goodbye"))
    assert tw.speak_document(LANG, [code], fixed, hangup=True) == str(tw.speak(LANG, [code, *fixed], hangup=True))
    assert tw.speak_document(LANG, [code], fixed) == str(tw.speak(LANG, [code, *fixed]))
