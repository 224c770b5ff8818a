"""The details the system writes on events read back in the console's language; free text shows as written."""
from __future__ import annotations

import pytest

from dispatch.event_details import PATTERNS, detail, parse
from hotline.console.event_text import actor_name, event_detail
from hotline.console.i18n import LANGUAGES, catalogue

SAMPLES = {"incoming": {}, "ring": {"tier": 1, "names": "王海燕, 李春雷"}, "no_answer": {"tier": 2, "dial": "busy"},
           "alert_round": {"round": 1, "sms": 2, "calls": 0}, "ack": {"who": "王海燕", "via": "sms"},
           "task_overdue": {"task": 22, "round": 1, "count": 2}, "not_arrived": {"minutes": 15}}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_pattern_has_a_text_in_each_language(lang):
    assert [name for name in PATTERNS if not catalogue(lang).get(f"events.detail.{name}")] == []


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_written_detail_reads_back_as_its_pattern_and_values(name):
    kind = PATTERNS[name][0][0]
    assert parse(kind, detail(name, **SAMPLES[name])) == (name, {k: str(v) for k, v in SAMPLES[name].items()})


def test_a_detail_stored_before_the_patterns_reads_back_the_same():
    assert parse("alert", "round 3: SMS to 5 officer(s), 2 call(s)") == ("alert_round",
                                                                         {"round": "3", "sms": "5", "calls": "2"})


def test_a_pattern_is_only_tried_for_its_kinds():
    assert parse("closed", "王海燕 by sms") is None and parse("closed", "message recorded") is None


def test_a_note_of_an_event_that_has_no_pattern_shows_as_written_with_numbers_masked(app):
    with app.test_request_context("/console/cases/1?lang=zh-CN"):
        assert event_detail("closed", "已回电 13904761234，message left") == "已回电 13****1234，message left"


@pytest.mark.parametrize("lang, shown", [("zh-CN", "第1轮：短信提醒值班人员2人，电话0次"),
                                         ("en", "round 1: SMS to 2 officer(s), 0 call(s)")])
def test_an_alert_round_shows_in_the_readers_language(app, lang, shown):
    with app.test_request_context(f"/console/cases/1?lang={lang}"):
        assert event_detail("alert", detail("alert_round", round=1, sms=2, calls=0)) == shown


def test_known_values_are_labelled_and_unknown_ones_shown_as_stored(app):
    with app.test_request_context("/console/cases/1?lang=zh-CN"):
        assert event_detail("acknowledged", "王海燕 by sms") == "王海燕通过短信确认"
        assert event_detail("no-answer", "tier 1: DialCallStatus=odd") == "第1梯队：odd"


def test_system_actors_are_named_in_the_readers_language_and_people_as_stored(app):
    with app.test_request_context("/console/cases/1?lang=zh-CN"):
        assert (actor_name("system"), actor_name("resident"), actor_name("王海燕")) == ("系统", "老人", "王海燕")
