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
