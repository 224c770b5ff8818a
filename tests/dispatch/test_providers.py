"""The neutral phone-provider interface: the local outbox, the Twilio adapter at the fake's HTTP edge, a call
script rendered as TwiML, and call rows of the previous release (TwiML bodies) still sent as they were."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

import pytest

from dispatch.outbox import deliver, queue_message
from dispatch.providers import CallScript, KeyQuestion, LocalOutbox, ProviderError, Target, build_provider, script_of
from dispatch.providers.twilio import TwilioProvider, render_call
from dispatch.voice_messages import acknowledgement_call, spoken_notification
from models import Message
from tests.conftest import PUBLIC_BASE_URL

T1 = "+8613800000001"
ACK = CallScript("zh-CN", ("有新的求助个案",), repeat=2,
                 question=KeyQuestion("1", 10, Target("case-ack", {"case": "012345", "officer": 7})))
# What the previous release stored as a notification call's body.
OLD_TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Say language="cmn-CN" voice="Polly.Zhiyu">'
             '<prosody rate="slow">旧版通知</prosody></Say><Pause length="1" /><Hangup /></Response>')


def _twiml(script: CallScript) -> ET.Element:
    return ET.fromstring(render_call(script, PUBLIC_BASE_URL))


def test_the_local_outbox_records_sms_and_calls_as_sent_locally():
    outbox = LocalOutbox()
    assert outbox.send_sms(T1, "派单").status == "local"
    assert outbox.place_call(T1, CallScript("zh-CN", ("您好",))).sid.startswith("LO")


def test_phone_provider_names_the_provider_whatever_the_credentials(settings):
    assert isinstance(build_provider(settings.with_overrides(phone_provider="local")), LocalOutbox)
    assert isinstance(build_provider(settings), TwilioProvider)  # credentials set, no name: Twilio
    assert isinstance(build_provider(settings.with_overrides(twilio_account_sid="")), LocalOutbox)


def test_an_unknown_provider_name_is_a_configuration_error(settings):
    with pytest.raises(ValueError, match="PHONE_PROVIDER"):
        build_provider(settings.with_overrides(phone_provider="carrier-pigeon"))


def test_the_twilio_adapter_sends_an_sms_from_the_hotline_number(settings, fake_twilio):
    sent = build_provider(settings).send_sms(T1, "派单 A123")
    [msg] = fake_twilio.messages
    assert (msg["sid"], msg["to"], msg["from_"], msg["body"]) == (sent.sid, T1, settings.sender, "派单 A123")


def test_the_twilio_adapter_places_a_call_that_plays_the_rendered_script(settings, fake_twilio):
    build_provider(settings).place_call(T1, ACK)
    [call] = fake_twilio.calls
    assert call["to"] == T1 and call["twiml"] == render_call(ACK, PUBLIC_BASE_URL)


def test_a_twilio_refusal_becomes_the_projects_permanent_provider_error(settings, fake_twilio):
    with pytest.raises(ProviderError) as raised:
        build_provider(settings).send_sms("not-a-number", "派单")
    assert raised.value.permanent


def test_a_statement_is_said_slowly_in_mandarin_twice_with_a_pause_then_hung_up():
    root = _twiml(CallScript("zh-CN", ("您的服务单已接单",), repeat=2))
    assert [v.tag for v in root] == ["Say", "Pause", "Say", "Pause", "Hangup"]
    for say in root.iter("Say"):
        assert (say.get("language"), say.get("voice")) == ("cmn-CN", "Polly.Zhiyu")
        assert say.find("prosody").get("rate") == "slow" and say.find("prosody").text == "您的服务单已接单"


def test_a_key_question_gathers_one_key_around_the_sentences_then_hangs_up():
    root = _twiml(ACK)
    assert [v.tag for v in root] == ["Gather", "Hangup"]
    gather = root.find("Gather")
    assert (gather.get("numDigits"), gather.get("timeout"), gather.get("method")) == ("1", "10", "POST")
    assert ["".join(s.itertext()) for s in gather.iter("Say")] == ["有新的求助个案"] * 2


def test_the_answer_target_becomes_the_webhook_url_ending_with_the_terminator():
    action = urlsplit(_twiml(ACK).find("Gather").get("action"))
    assert f"{action.scheme}://{action.netloc}" == PUBLIC_BASE_URL and action.path == "/twilio/voice/ack"
    assert parse_qsl(action.query) == [("case", "012345"), ("officer", "7"), ("end", "1")]


def test_a_handed_over_call_redirects_to_the_apps_dialogue():
    root = _twiml(CallScript("zh-CN", repeat=0, then=Target("satisfaction", {"order": 5})))
    assert [v.tag for v in root] == ["Redirect"]
    assert root.find("Redirect").text == f"{PUBLIC_BASE_URL}/twilio/voice/satisfaction?order=5&end=1"


def test_a_call_body_is_the_neutral_script_and_reads_back_whole():
    body = acknowledgement_call("zh-CN", "有新的求助个案", "012345", 7)
    assert "<" not in body and script_of(body) == ACK


def test_a_notification_body_reads_back_as_its_sentence_said_twice():
    script = script_of(spoken_notification("en", "Your order was accepted"))
    assert (script.language, script.sentences, script.repeat, script.question) == \
        ("en", ("Your order was accepted",), 2, None)


def test_a_call_row_of_the_previous_release_is_sent_with_its_twiml_unchanged(app, db, settings, fake_twilio):
    row = queue_message(db, "old-call:1", T1, OLD_TWIML, channel="call")
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender)
    [call] = fake_twilio.calls
    assert call["twiml"] == OLD_TWIML and db.get(Message, row.id).status == "sent"


def test_a_call_row_with_no_script_fails_permanently_instead_of_ringing(app, db, settings, fake_twilio):
    row = queue_message(db, "bad-call:1", T1, "", channel="call")
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender)
    assert fake_twilio.calls == [] and db.get(Message, row.id).status == "failed"


def test_the_console_reads_the_words_of_a_script_and_of_an_old_twiml_body_alike():
    from hotline.console.message_text import spoken_text

    assert spoken_text(spoken_notification("zh-CN", "您的服务单已接单")) == "您的服务单已接单"
    assert spoken_text(OLD_TWIML) == "旧版通知"


def test_phone_provider_is_read_from_the_environment_and_chooses_local_mode(tmp_path):
    from hotline.config import load_settings

    env = {"INSTANCE_PATH": str(tmp_path), "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t"}
    assert load_settings(env).phone_provider_name == "twilio"
    chosen = load_settings({**env, "PHONE_PROVIDER": " Local "})
    assert chosen.phone_provider_name == "local" and chosen.local_mode
