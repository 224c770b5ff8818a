"""The Twilio adapter of the receiving side: a signed webhook's form read as neutral events."""
from __future__ import annotations

import pytest
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator
from werkzeug.datastructures import MultiDict

from dispatch.providers import InboundSms, KeyPress
from hotline.softphone import twilio_wire as wire
from hotline.webhooks.twilio_inbound import inbound_sms, key_press, signature_valid, sms_answer
from tests.conftest import AUTH_TOKEN, ELDERLY_NUMBER, PUBLIC_BASE_URL

T1 = "+8613800000001"
SMS = {"MessageSid": "SM" + "5" * 32, "AccountSid": "AC" + "1" * 32, "From": T1, "To": ELDERLY_NUMBER,
       "Body": "接 A123", "NumMedia": "0"}


def _signed(app, path: str, form: dict, token: str = AUTH_TOKEN):
    headers = wire.signed_headers(token, PUBLIC_BASE_URL, path, form)
    return app.test_request_context(path, method="POST", data=form, headers=headers, base_url=PUBLIC_BASE_URL)


def test_a_signed_sms_webhook_is_an_inbound_sms_event(app):
    with _signed(app, "/twilio/sms", SMS):
        assert signature_valid()
        assert inbound_sms() == InboundSms("SM" + "5" * 32, T1, ELDERLY_NUMBER, "接 A123")


def test_an_sms_signed_with_another_token_is_not_valid(app):
    with _signed(app, "/twilio/sms", SMS, token="someone-else"):
        assert not signature_valid()


def test_an_sms_without_a_message_sid_has_no_dedup_key(app):
    with _signed(app, "/twilio/sms", {**SMS, "MessageSid": ""}):
        assert inbound_sms().sid is None


def _signed_over(app, url: str, form: dict, algorithm: str | None = None, announced: str | None = None):
    headers = {"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, form, algorithm)}
    if announced:
        headers[SIGNATURE_SETTINGS_HEADER] = f"key=webhooks_sharedkey_1,algorithm={announced}"
    return app.test_request_context("/twilio/sms", method="POST", data=form, headers=headers,
                                    base_url=PUBLIC_BASE_URL)


@pytest.mark.parametrize("url", [PUBLIC_BASE_URL + "/twilio/sms", PUBLIC_BASE_URL + ":443/twilio/sms"],
                         ids=["as configured", "with the default port"])
def test_a_signature_over_either_spelling_of_the_public_url_is_valid(app, url):
    with _signed_over(app, url, SMS):
        assert signature_valid()


def test_a_signature_over_another_port_is_not_valid(app):
    with _signed_over(app, PUBLIC_BASE_URL + ":8443/twilio/sms", SMS):
        assert not signature_valid()


def test_an_hmac_sha256_signature_announced_as_such_is_valid(app):
    with _signed_over(app, PUBLIC_BASE_URL + "/twilio/sms", SMS, "HMAC_SHA256", announced="HMAC_SHA256"):
        assert signature_valid()


def test_an_hmac_sha256_signature_announced_as_sha1_is_not_valid(app):
    with _signed_over(app, PUBLIC_BASE_URL + "/twilio/sms", SMS, "HMAC_SHA256", announced="HMAC_SHA1"):
        assert not signature_valid()


def test_a_signature_announcing_an_unknown_algorithm_is_not_valid(app):
    with _signed_over(app, PUBLIC_BASE_URL + "/twilio/sms", SMS, announced="HMAC_MD5"):
        assert not signature_valid()


@pytest.mark.parametrize("signed_bodies,valid", [(["一", "二"], True), (["一"], False)], ids=["all values", "one"])
def test_a_repeated_field_is_signed_over_all_its_values(app, signed_bodies, valid):
    url = PUBLIC_BASE_URL + "/twilio/sms"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, MultiDict(
        [*((k, v) for k, v in SMS.items() if k != "Body"), *(("Body", b) for b in signed_bodies)]))
    with app.test_request_context("/twilio/sms", method="POST", data={**SMS, "Body": ["一", "二"]},
                                  base_url=PUBLIC_BASE_URL, headers={"X-Twilio-Signature": signature}):
        assert signature_valid() is valid


def test_a_gather_action_is_a_key_press_on_its_call(app):
    form = {"CallSid": "CA" + "2" * 32, "Digits": "1", "ParentCallSid": "CA" + "3" * 32}
    with _signed(app, "/twilio/voice/screen/answer?officer=4&end=1", form):
        assert signature_valid()
        assert key_press() == KeyPress("CA" + "2" * 32, "1", "CA" + "3" * 32)


def test_a_gather_that_heard_nothing_is_a_key_press_of_no_keys(app):
    with _signed(app, "/twilio/voice/satisfaction?order=1&end=1", {"CallSid": "CA" + "2" * 32}):
        assert key_press().digits is None


def test_the_answer_to_an_sms_is_one_message_or_none():
    assert "<Message>已接单</Message>" in sms_answer("已接单").get_data(as_text=True)
    assert "<Message>" not in sms_answer(None).get_data(as_text=True)
