"""Prove FakeTwilio behaves like Twilio through twilio-python, and webhook signing validates."""
import xml.etree.ElementTree as ET

import pytest
import requests
from flask import Flask, Response, request
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

try:  # works whether or not tests/ is a package
    from tests.twilio_client import TwilioWebhookClient, next_action, parse_twiml
    from tests.twilio_fake import FakeTwilio, count_segments
except ImportError:
    from twilio_client import TwilioWebhookClient, next_action, parse_twiml
    from twilio_fake import FakeTwilio, count_segments

SID = "AC" + "a" * 32
TOKEN = "secret"
PUBLIC = "http://127.0.0.1:5000"
TWILIO_NUMBER = "+864768000001"
CUSTOMER = "+8613800000000"


@pytest.fixture(scope="module")
def server():
    """One fake server per module; state is reset per test by `fake`."""
    fake = FakeTwilio(account_sid=SID, auth_token=TOKEN, api_keys={"SK" + "b" * 32: "keysecret"})
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    """A started fake with clean state."""
    server.reset()
    return server


def client_for(fake, username=SID, password=TOKEN, account_sid=None):
    """A real twilio-python Client pointed at the fake."""
    client = Client(username, password, account_sid=account_sid)
    client.api.base_url = fake.base_url
    return client


def raises_twilio(fn, status, code):
    """Call fn and assert it raises TwilioRestException with status and code."""
    with pytest.raises(TwilioRestException) as info:
        fn()
    assert (info.value.status, info.value.code) == (status, code)
    return info.value


def test_message_create_and_fetch(fake):
    msg = client_for(fake).messages.create(to=CUSTOMER, from_=TWILIO_NUMBER, body="接单 123456",
                                           status_callback="http://127.0.0.1:5000/cb")
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert (msg.status, msg.num_segments, msg.direction, msg.from_) == \
        ("queued", "1", "outbound-api", TWILIO_NUMBER)
    assert msg.date_created is not None and msg.error_code is None and msg.price is None
    [record] = fake.messages
    assert record["sid"] == msg.sid and record["body"] == "接单 123456"
    assert record["status_callback"] == "http://127.0.0.1:5000/cb"
    assert fake.requests[-1]["auth_ok"] and fake.requests[-1]["status"] == 201
    fake.set_status(msg.sid, "delivered")
    assert client_for(fake).messages(msg.sid).fetch().status == "delivered"


def test_messaging_service_without_from_is_accepted(fake):
    msg = client_for(fake).messages.create(to=CUSTOMER, messaging_service_sid="MG" + "c" * 32,
                                           body="hi")
    assert msg.status == "accepted" and msg.from_ is None


def test_call_create_and_fetch(fake):
    call = client_for(fake).calls.create(to=CUSTOMER, from_=TWILIO_NUMBER,
                                         twiml="<Response><Say>hi</Say></Response>",
                                         status_callback="http://127.0.0.1:5000/s",
                                         status_callback_event=["initiated", "completed"])
    assert call.sid.startswith("CA") and len(call.sid) == 34 and call.status == "queued"
    [record] = fake.calls
    assert record["twiml"].startswith("<Response>") and record["url"] is None
    assert record["status_callback_event"] == ["initiated", "completed"]
    assert client_for(fake).calls(call.sid).fetch().to == CUSTOMER


def test_call_without_instructions_is_21205(fake):
    raises_twilio(lambda: client_for(fake).calls.create(to=CUSTOMER, from_=TWILIO_NUMBER),
                  400, 21205)
    assert fake.calls == []


def test_bad_auth_is_401_20003(fake):
    err = raises_twilio(lambda: client_for(fake, password="wrong").messages.create(
        to=CUSTOMER, from_=TWILIO_NUMBER, body="x"), 401, 20003)
    assert "Authenticate" in err.msg
    assert fake.messages == [] and fake.requests[-1]["auth_ok"] is False


def test_api_key_auth_and_account_mismatch(fake):
    key_client = client_for(fake, "SK" + "b" * 32, "keysecret", account_sid=SID)
    assert key_client.messages.create(to=CUSTOMER, from_=TWILIO_NUMBER, body="x").sid
    other = client_for(fake, account_sid="AC" + "f" * 32)
    raises_twilio(lambda: other.messages.create(to=CUSTOMER, from_=TWILIO_NUMBER, body="x"),
                  404, 20404)
    raises_twilio(lambda: client_for(fake).messages("SM" + "0" * 32).fetch(), 404, 20404)


@pytest.mark.parametrize("to", ["13800000000", "+86 138", "not-a-number"])
def test_non_e164_to_is_21211(fake, to):
    err = raises_twilio(lambda: client_for(fake).messages.create(
        to=to, from_=TWILIO_NUMBER, body="x"), 400, 21211)
    assert f"The 'To' number {to} is not a valid phone number." in err.msg


def test_number_behaviours(fake):
    client = client_for(fake)
    send = lambda: client.messages.create(to=CUSTOMER, from_=TWILIO_NUMBER, body="x")  # noqa: E731
    fake.set_number_behaviour(CUSTOMER, "unsubscribed")
    raises_twilio(send, 400, 21610)
    fake.set_number_behaviour(CUSTOMER, "invalid")
    raises_twilio(send, 400, 21211)
    fake.set_number_behaviour(CUSTOMER, "landline")
    assert "not a valid mobile number" in raises_twilio(send, 400, 21614).msg
    # Landlines can still be called.
    assert client.calls.create(to=CUSTOMER, from_=TWILIO_NUMBER, url=PUBLIC + "/v").sid
    fake.set_number_behaviour(CUSTOMER, None)
    assert send().sid and len(fake.messages) == 1


def test_fail_next_429_then_500_then_recovers(fake):
    client = client_for(fake)
    send = lambda: client.messages.create(to=CUSTOMER, from_=TWILIO_NUMBER, body="x")  # noqa: E731
    fake.fail_next(2)
    assert "Too Many Requests" in raises_twilio(send, 429, 20429).msg
    raises_twilio(send, 429, 20429)
    fake.fail_next(1, status=500, code=20500)
    raises_twilio(send, 500, 20500)
    assert send().sid and len(fake.messages) == 1


@pytest.mark.parametrize("form, code", [
    ({"From": TWILIO_NUMBER, "Body": "x"}, 21604),
    ({"To": CUSTOMER, "Body": "x"}, 21603),
    ({"To": CUSTOMER, "From": TWILIO_NUMBER}, 21602),
])
def test_missing_message_params_exact_error_body(fake, form, code):
    resp = requests.post(f"{fake.base_url}/2010-04-01/Accounts/{SID}/Messages.json",
                         data=form, auth=(SID, TOKEN), timeout=5)
    assert resp.status_code == 400
    body = resp.json()
    assert set(body) == {"code", "message", "more_info", "status"}
    assert body["code"] == code and body["status"] == 400
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


@pytest.mark.parametrize("body, segments", [
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("中" * 70, 1), ("中" * 71, 2), ("中" * 134, 2), ("中" * 135, 3),
    ("€" * 80, 1), ("€" * 81, 2), ("😀" * 35, 1), ("😀" * 36, 2),
])
def test_count_segments(body, segments):
    assert count_segments(body) == segments


# -- webhook client --------------------------------------------------------------------------

@pytest.fixture
def webhook_app():
    """Throwaway Flask app that validates signatures like the real app and records params."""
    app = Flask(__name__)
    app.received = []
    validator = RequestValidator(TOKEN)

    @app.post("/twilio/<path:rest>")
    def hook(rest):
        url = PUBLIC + request.full_path.rstrip("?")
        if not validator.validate(url, request.form.to_dict(),
                                  request.headers.get("X-Twilio-Signature", "")):
            return Response("forbidden", status=403)
        app.received.append((request.full_path.rstrip("?"), request.form.to_dict()))
        twiml = '<Response><Gather action="menu?step=2" numDigits="1"/></Response>'
        return Response(twiml, content_type="text/xml")

    return app


@pytest.fixture
def tw(webhook_app):
    """A TwilioWebhookClient driving the throwaway app."""
    return TwilioWebhookClient(webhook_app.test_client(), auth_token=TOKEN,
                               public_base_url=PUBLIC, account_sid=SID)


def test_call_flow_params_and_signatures(tw, webhook_app):
    call = tw.new_call(from_="+8613904761234", to=TWILIO_NUMBER)
    resp = call.post("/twilio/voice")
    assert resp.status_code == 200
    path, params = webhook_app.received[-1]
    assert path == "/twilio/voice"
    assert params["CallSid"] == call.sid and len(call.sid) == 34 and call.sid.startswith("CA")
    assert (params["CallStatus"], params["Direction"], params["FromCountry"],
            params["ToCountry"], params["Caller"], params["AccountSid"]) == \
        ("ringing", "inbound", "CN", "CN", "+8613904761234", SID)
    assert "CallToken" not in params
    call.follow(resp, Digits="1")
    path, params = webhook_app.received[-1]
    assert path == "/twilio/menu?step=2"
    assert (params["Digits"], params["CallStatus"]) == ("1", "in-progress")
    assert call.status("completed", CallDuration="35").status_code == 200
    path, params = webhook_app.received[-1]
    assert path == "/twilio/voice/status"
    assert (params["CallStatus"], params["CallDuration"], params["CallSid"]) == \
        ("completed", "35", call.sid)


def test_sms_webhook(tw, webhook_app):
    assert tw.sms(from_="+8613912345678", to=TWILIO_NUMBER, body="接单 123456").status_code == 200
    path, params = webhook_app.received[-1]
    assert path == "/twilio/sms" and params["Body"] == "接单 123456"
    assert params["MessageSid"].startswith("SM") and params["SmsSid"] == params["MessageSid"]
    assert (params["NumMedia"], params["NumSegments"]) == ("0", "1")
    assert "MessagingServiceSid" not in params


def test_unsigned_and_wrong_signature_are_rejected(tw):
    params = {"CallSid": "CA" + "1" * 32, "From": CUSTOMER}
    assert tw.post("/twilio/voice", params).status_code == 200
    assert tw.post("/twilio/voice", params, signed=False).status_code == 403
    assert tw.post("/twilio/voice", params, signature="bogus").status_code == 403


def test_signature_breaks_when_url_or_param_changes(tw):
    params = {"Body": "接单 123456", "From": CUSTOMER}
    sig = tw.signature_for("/twilio/sms?x=1", params)
    validator = RequestValidator(TOKEN)
    assert validator.validate(PUBLIC + "/twilio/sms?x=1", params, sig)
    assert not validator.validate(PUBLIC + "/twilio/sms?x=2", params, sig)
    assert not validator.validate("https://evil.example/twilio/sms?x=1", params, sig)
    assert not validator.validate(PUBLIC + "/twilio/sms?x=1", {**params, "Body": "x"}, sig)
    assert not RequestValidator("other").validate(PUBLIC + "/twilio/sms?x=1", params, sig)


@pytest.mark.parametrize("twiml, current, expected", [
    ('<Gather action="/twilio/menu?a=1"/>', "/twilio/voice", "/twilio/menu?a=1"),
    ('<Gather action="menu"/>', "/twilio/voice/start", "/twilio/voice/menu"),
    ("<Gather/>", "/twilio/voice?x=1", "/twilio/voice?x=1"),
    ('<Say>x</Say><Record action="done"/>', "/twilio/a", "/twilio/done"),
    ('<Dial>+1</Dial><Redirect>http://127.0.0.1:5000/r?q=1&amp;z=2</Redirect>', "/", "/r?q=1&z=2"),
    ('<Dial action="/after">+1</Dial>', "/", "/after"),
    ("<Say>bye</Say><Hangup/><Redirect>/x</Redirect>", "/", None),
    ("<Say>bye</Say>", "/", None),
])
def test_next_action(twiml, current, expected):
    assert next_action(ET.fromstring(f"<Response>{twiml}</Response>"), current) == expected


def test_parse_twiml_rejects_non_xml():
    app = Flask(__name__)
    with app.test_request_context():
        with pytest.raises(AssertionError):
            parse_twiml(Response("<Response/>", content_type="text/html"))
        assert parse_twiml(Response("<Response/>", content_type="application/xml")).tag == \
            "Response"
