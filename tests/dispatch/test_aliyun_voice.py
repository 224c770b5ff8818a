"""Calls through Alibaba Cloud's voice service: a notice by SingleCallByTts, a key question by IvrCall with its
key map, approved TTS templates with named parameters, OutId = the outbox row's id, Alibaba's error codes and its
per-number limits; checked at the HTTP edge by a fake that verifies the signature."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from dispatch.arrival_calls import call_script as arrival_script
from dispatch.call_answers import ANSWERS
from dispatch.outbox import deliver, queue_message
from dispatch.providers import CallScript, ProviderError, build_provider, script_of
from dispatch.providers.aliyun_templates import DEFAULT_PATH, load_voice
from dispatch.providers.aliyun_voice import AliyunVoice
from dispatch.satisfaction import call_script as satisfaction_script
from dispatch.texts import ZH, render
from dispatch.voice_messages import acknowledgement_call, spoken_notification
from ivr_flows.prompts import text as prompt
from models import Message
from tests.aliyun_helpers import AK_ID, SHOW_NUMBER, aliyun_fake, tts_code_of, voice_fake, voice_settings  # noqa: F401 (fixtures: fake_aliyun, fake_voice, settings)

LANDLINE, MOBILE = "+864768223344", "+8613800000001"


def _notice() -> str:
    return spoken_notification("zh-CN", render("zh-CN", "notify_resident_call", name="王奶奶", tech="张师傅",
                                               digits="1 2 3 4 5 6", phone_digits="1 3 8 0 0 0 0 0 0 0 1"))


def _place(db, settings, key: str, body: str, to: str = LANDLINE) -> Message:
    row = queue_message(db, key, to, body, channel="call")
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender)
    db.expire_all()
    return db.get(Message, row.id)


def test_a_notice_is_a_single_call_by_tts_of_its_approved_template_with_named_parameters(app, db, settings,
                                                                                         fake_voice):
    row = _place(db, settings, "notify:accepted:1", _notice())
    [call] = fake_voice.calls
    assert (call["action"], call["number"], call["tts_code"]) == ("SingleCallByTts", "04768223344",
                                                                  tts_code_of("notify_resident_call"))
    assert call["params"] == {"name": "王奶奶", "digits": "1 2 3 4 5 6", "tech": "张师傅",
                              "phone_digits": "1 3 8 0 0 0 0 0 0 0 1"}
    assert call["said"].startswith("王奶奶您好") and (call["play_times"], call["show_number"]) == (2, SHOW_NUMBER)
    assert (row.status, row.provider_sid) == ("sent", call["call_id"])


def test_the_out_id_is_the_outbox_rows_id_within_alibabas_15_bytes(app, db, settings, fake_voice):
    row = _place(db, settings, "notify:reassigned:123456789:987654321", _notice())
    assert fake_voice.calls[0]["out_id"] == str(row.id)


def test_a_supervisors_alert_call_is_an_ivr_call_whose_key_1_says_thanks(app, db, settings, fake_voice):
    sentence = render("zh-CN", "case_call", digits="1 0 0 0 0 1", phone_digits="1 3 9")
    _place(db, settings, "case-call:1:4:2", acknowledgement_call("zh-CN", sentence, "100001", 2), to=MOBILE)
    [call] = fake_voice.calls
    assert (call["action"], call["tts_code"], call["number"]) == ("IvrCall", tts_code_of("case_call"), "13800000001")
    assert call["menu"] == {"1": tts_code_of("case_call_ok")} and call["timeout_ms"] == 10_000
    assert call["params"] == {"digits": "1 0 0 0 0 1", "phone_digits": "1 3 9"}


def test_an_arrival_call_maps_1_and_2_to_their_answers_and_silence_to_a_goodbye(app, db, settings, fake_voice):
    _place(db, settings, "arrival:1:1", arrival_script(settings, 1, 1))
    [call] = fake_voice.calls
    assert call["menu"] == {"1": tts_code_of("arrival_thanks"), "2": tts_code_of("arrival_thanks_disputed")}
    assert (call["tts_code"], call["bye"]) == (tts_code_of("arrival_call"), tts_code_of("arrival_goodbye"))


def test_the_satisfaction_dialogue_opens_with_its_question_and_takes_1_2_or_3(app, db, settings, fake_voice):
    _place(db, settings, "satisfaction:1", satisfaction_script(settings, 1))
    [call] = fake_voice.calls
    assert (call["action"], call["tts_code"], call["play_times"]) == ("IvrCall", tts_code_of("satisfaction_call"), 1)
    assert sorted(call["menu"]) == ["1", "2", "3"] and call["menu"]["3"] == tts_code_of("satisfaction_thanks_follow_up")


def test_a_call_kind_without_an_approved_tts_code_is_not_placed_and_fails_naming_it(app, db, settings, fake_voice,
                                                                                    tmp_path, caplog):
    data = json.loads(Path(settings.aliyun_templates).read_text(encoding="utf-8"))
    data["voice"]["templates"]["notify_resident_call"]["code"] = ""
    path = tmp_path / "unapproved.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="dispatch.providers.aliyun_voice"):
        row = _place(db, settings.with_overrides(aliyun_templates=str(path)), "notify:accepted:2", _notice())
    assert fake_voice.calls == [] and row.status == "failed" and "notify_resident_call" in row.error
    assert "no approved Alibaba TTS template" in caplog.text


def test_a_call_body_queued_before_sentences_kept_their_kind_loads_and_fails_for_want_of_a_template(
        app, db, settings, fake_voice):
    old = json.dumps({"script": 1, "language": "zh-CN", "sentences": ["您好"], "repeat": 2, "question": None,
                      "then": None}, ensure_ascii=False)
    assert script_of(old).sentences == ("您好",)
    row = _place(db, settings, "notify:accepted:3", old)
    assert row.status == "failed" and "no TTS template" in row.error and fake_voice.calls == []


def test_a_call_that_asks_for_a_key_needs_the_show_number(app, db, settings, fake_voice):
    row = _place(db, settings.with_overrides(aliyun_voice_show_number=""), "arrival:2:1",
                 arrival_script(settings, 2, 1))
    assert row.status == "failed" and "ALIYUN_VOICE_SHOW_NUMBER" in row.error and fake_voice.calls == []


@pytest.mark.parametrize("code", ["isv.TTS_TEMPLATE_ILLEGAL", "isv.MOBILE_NUMBER_ILLEGAL", "isv.AMOUNT_NOT_ENOUGH",
                                  "isv.TEMPLATE_PARAMS_ILLEGAL"])
def test_template_number_and_account_errors_fail_the_row_for_good(app, db, settings, fake_voice, code):
    fake_voice.answer_next(code)
    row = _place(db, settings, f"notify:{code}", _notice())
    assert row.status == "failed" and code in row.error


def test_alibabas_own_fault_is_retried_later(app, db, settings, fake_voice):
    fake_voice.answer_next("isp.SYSTEM_ERROR")
    row = queue_message(db, "notify:fault", LANDLINE, _notice(), channel="call")
    db.commit()
    with pytest.raises(ProviderError) as raised:
        deliver(db, row.id, build_provider(settings), settings.sender)
    assert not raised.value.recipient_limited
    db.expire_all()
    assert db.get(Message, row.id).status == "queued"
    deliver(db, row.id, build_provider(settings), settings.sender)
    assert len(fake_voice.calls) == 1


def test_alibabas_per_number_limit_holds_the_call_for_the_budgets_next_place(app, db, settings, fake_voice):
    fake_voice.answer_next("isv.BUSINESS_LIMIT_CONTROL")
    row = queue_message(db, "notify:limited", LANDLINE, _notice(), channel="call")
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender)  # not raised: no fast retry loop
    db.expire_all()
    assert db.get(Message, row.id).status == "held" and fake_voice.calls == []


def _adapter(settings) -> AliyunVoice:
    return build_provider(settings).voice  # type: ignore[attr-defined]  # SMS and calls on Alibaba: a split


def test_the_fake_enforces_one_call_a_minute_to_a_number_and_the_adapter_says_limited(app, settings, fake_voice):
    voice, script = _adapter(settings), script_of(_notice())
    voice.place_call(LANDLINE, script)
    with pytest.raises(ProviderError) as raised:
        voice.place_call(LANDLINE, script)
    assert raised.value.recipient_limited and not raised.value.permanent
    voice.place_call("+864768223355", script)  # another number is not limited
    start = fake_voice.clock()
    fake_voice.clock = lambda: start + 61
    voice.place_call(LANDLINE, script)
    assert [c["number"] for c in fake_voice.calls] == ["04768223344", "04768223355", "04768223344"]


def test_the_fake_enforces_five_calls_an_hour_and_twenty_a_day(app, settings, fake_voice):
    voice, script, start = _adapter(settings), script_of(_notice()), fake_voice.clock()
    for minute in range(5):
        fake_voice.clock = lambda m=minute: start + 61 * m
        voice.place_call(LANDLINE, script)
    fake_voice.clock = lambda: start + 61 * 5
    with pytest.raises(ProviderError) as raised:
        voice.place_call(LANDLINE, script)
    assert raised.value.recipient_limited
    for hour in range(1, 4):  # 5 more each hour: 20 within the day
        for minute in range(5):
            fake_voice.clock = lambda h=hour, m=minute: start + 3601 * h + 61 * m
            voice.place_call(LANDLINE, script)
    fake_voice.clock = lambda: start + 3601 * 5
    with pytest.raises(ProviderError):
        voice.place_call(LANDLINE, script)
    assert len(fake_voice.calls) == 20


def test_a_call_alibaba_answered_too_late_fails_uncertain_and_is_not_placed_again(app, db, settings, fake_voice):
    fake_voice.hang_next(2)  # placed, answered after the 1 s timeout
    row = _place(db, settings, "notify:slow", _notice())
    assert row.status == "failed" and "not placed again" in row.error
    deliver(db, row.id, build_provider(settings), settings.sender)
    assert len(fake_voice.calls) == 1


def test_a_request_signed_with_another_secret_is_refused_by_the_fake(app, settings, fake_voice):
    forged = AliyunVoice(AK_ID, "not-the-secret", "cn-hangzhou", load_voice(settings.aliyun_templates),
                         fake_voice.endpoint, 2, SHOW_NUMBER)
    with pytest.raises(ProviderError) as raised:
        forged.place_call(LANDLINE, script_of(_notice()))
    assert raised.value.permanent and fake_voice.refused == ["SignatureDoesNotMatch"] and fake_voice.calls == []


def test_sms_are_not_sent_through_the_voice_adapter(app, settings, fake_voice):
    with pytest.raises(ProviderError):
        _adapter(settings).send_sms(MOBILE, "x")


def test_a_script_keeps_each_sentences_kind_and_parameters_in_its_body():
    sentence = render("zh-CN", "police_call", digits="1 0 0")
    restored = script_of(CallScript("zh-CN", (sentence, "自由文本")).to_body()).sentences
    assert restored == (sentence, "自由文本")
    assert (restored[0].kind, restored[0].params) == ("police_call", {"digits": "1 0 0"})  # type: ignore[attr-defined]


# Where each voice template's text comes from: the catalogue (texts:) or the IVR's prompts (prompts:).
def _source(ref: str) -> str:
    where, key = ref.split(":")
    return ZH[key] if where == "texts" else prompt("zh-CN", key)


def test_every_voice_template_text_is_the_text_the_hotline_says():
    data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))["voice"]["templates"]
    for kind, raw in data.items():
        assert raw["text"].replace("${", "{") == "".join(_source(ref) for ref in raw["from"]), kind
        assert raw["params"] == list(dict.fromkeys(re.findall(r"\$\{(\w+)\}", raw["text"]))), kind


def test_every_spoken_text_and_every_answer_target_has_a_voice_template():
    voice = load_voice()
    spoken = {k for k in ZH if k.endswith("_call") and k != "satisfaction_call"} | {"case_call_ok"}
    assert spoken <= set(voice.tts)
    assert set(voice.menus) == set(ANSWERS)  # every target a key can go to
    assert all(kind in voice.tts for menu in voice.menus.values()
               for kind in [*menu.keys.values(), *filter(None, (menu.bye, menu.start))])


def test_parameters_longer_than_alibabas_250_characters_fail_the_row_before_any_request(app, db, settings,
                                                                                       fake_voice):
    long = spoken_notification("zh-CN", render("zh-CN", "notify_resident_call", name="王" * 240, tech="张师傅",
                                               digits="1", phone_digits="1"))
    row = _place(db, settings, "notify:long", long)
    assert row.status == "failed" and "250" in row.error and fake_voice.requests == []


def test_play_times_are_the_scripts_repetitions_within_1_to_3(app, settings, fake_voice):
    sentence = render("zh-CN", "police_call", digits="1 0 0")
    for repeat in (0, 5):
        _adapter(settings).place_call(f"+86138000000{repeat:02d}", CallScript("zh-CN", (sentence,), repeat=repeat))
    assert [c["play_times"] for c in fake_voice.calls] == [1, 3]
