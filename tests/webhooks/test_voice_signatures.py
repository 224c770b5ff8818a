"""Every voice webhook passes one Twilio signature check over the public URL; a forged one changes nothing."""
from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from models import CallLog, Message, Order
from tests import people
from tests.conftest import AUTH_TOKEN, ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.twilio_client import parse_twiml
from tests.webhooks.elderly_calls import MENU_PATH, call_log, count, path_of, resident, tier1  # noqa: F401 - fixtures

# --- signatures -------------------------------------------------------------------------------------

CALL_PARAMS = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "1" * 32, "From": people.RESIDENT_MOBILE,
               "To": ELDERLY_NUMBER, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
CONFIRM_URL = MENU_PATH + "?node=confirm&category=housekeeping&silences=0&invalid=0&end=1"
ENDPOINTS = [
    ("/twilio/voice", {}),
    (CONFIRM_URL, {"Digits": "1"}),
    ("/twilio/voice/status", {"CallStatus": "completed", "CallDuration": "30"}),
    ("/twilio/voice/operator?tier=0&end=1", {}),
    ("/twilio/voice/operator/done?tier=0&end=1", {"DialCallStatus": "completed"}),
    ("/twilio/voice/screen?officer=1&line=elderly&end=1", {"ParentCallSid": "CA" + "1" * 32}),
    ("/twilio/voice/message", {"RecordingUrl": "https://api.twilio.com/rec/RE1", "RecordingSid": "RE" + "1" * 32}),
    ("/twilio/voice/screen/answer?officer=1&line=elderly&end=1", {"Digits": "1", "ParentCallSid": "CA" + "1" * 32}),
]


def _nothing_stored(db):
    assert count(db, CallLog) == 0
    assert count(db, Order) == 0
    assert count(db, Message) == 0


@pytest.mark.parametrize("path,extra", ENDPOINTS, ids=[p.split("?")[0] for p, _ in ENDPOINTS])
def test_unsigned_webhook_is_refused_and_nothing_is_stored(tw, db, resident, tier1, path, extra):
    resp = tw.post(path, {**CALL_PARAMS, **extra}, signed=False)
    assert resp.status_code == 403
    _nothing_stored(db)


@pytest.mark.parametrize("path,extra", ENDPOINTS, ids=[p.split("?")[0] for p, _ in ENDPOINTS])
def test_webhook_signed_with_another_token_is_refused_and_nothing_is_stored(tw, db, resident, tier1, path, extra):
    params = {**CALL_PARAMS, **extra}
    forged = RequestValidator("not-our-token").compute_signature(PUBLIC_BASE_URL + path, params)
    resp = tw.post(path, params, signature=forged)
    assert resp.status_code == 403
    _nothing_stored(db)


def test_garbage_signature_is_refused(tw, db, resident):
    resp = tw.post("/twilio/voice", CALL_PARAMS, signature="bm90IGEgc2lnbmF0dXJl")
    assert resp.status_code == 403
    _nothing_stored(db)


def test_signature_over_another_path_is_refused(tw, db, resident):
    signature = tw.signature_for("/twilio/sms", CALL_PARAMS)
    resp = tw.post("/twilio/voice", CALL_PARAMS, signature=signature)
    assert resp.status_code == 403
    _nothing_stored(db)


def test_signature_over_the_internal_host_instead_of_the_public_url_is_refused(tw, db, resident):
    internal = RequestValidator(AUTH_TOKEN).compute_signature("http://127.0.0.1:5000/twilio/voice", CALL_PARAMS)
    resp = tw.post("/twilio/voice", CALL_PARAMS, signature=internal)
    assert resp.status_code == 403
    _nothing_stored(db)


def test_menu_state_in_the_url_cannot_be_changed_without_breaking_the_signature(tw, db, resident):
    params = {**CALL_PARAMS, "Digits": "1"}
    signed_for_housekeeping = tw.signature_for(CONFIRM_URL, params)
    resp = tw.post(CONFIRM_URL.replace("housekeeping", "legal_aid"), params, signature=signed_for_housekeeping)
    assert resp.status_code == 403
    _nothing_stored(db)


def test_changed_form_parameter_breaks_the_signature_and_changes_nothing(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    confirm = call.follow(call.post("/twilio/voice"), Digits="2")
    action = path_of(parse_twiml(confirm).find("Gather").get("action"))
    params = {**call.base_params(), "Digits": "2"}
    resp = tw.post(action, {**params, "Digits": "1"}, signature=tw.signature_for(action, params))
    assert resp.status_code == 403
    assert count(db, Order) == 0
    assert call_log(db, call).path == "2"


def test_request_reaching_the_app_through_a_proxy_is_checked_against_the_public_url(client, tw, db, resident):
    signature = tw.signature_for("/twilio/voice", CALL_PARAMS)
    resp = client.post("/twilio/voice", data=CALL_PARAMS, headers={"X-Twilio-Signature": signature},
                       base_url="http://10.0.0.7:8000")
    assert resp.status_code == 200
    assert count(db, CallLog) == 1
