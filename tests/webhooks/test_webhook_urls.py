"""Our webhook URLs end with `end=1`, so nothing of a signed URL can be moved into a field name."""
from __future__ import annotations

from twilio.request_validator import RequestValidator

from dispatch.providers.webhook_urls import webhook_url
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import chain, child_call, dial_of  # noqa: F401 - chain: the rota fixture

DONE = "/twilio/voice/operator/done"


def _shift_into_first_name(params: dict, moved: str) -> dict:
    """The fields with `moved` glued to the front of the first name in sorted order (the signed string's seam)."""
    first = sorted(params)[0]
    return {(moved + name if name == first else name): value for name, value in params.items()}


def _tier_done(call) -> dict:
    return {**call.base_params(), "DialCallStatus": "no-answer"}


def test_a_query_shifted_into_a_field_name_signs_alike_but_is_refused(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    params = _tier_done(call)
    signature = tw.signature_for(DONE + "?tier=1", params)  # a URL of the old form, without the terminator
    forged = _shift_into_first_name(params, "1")
    assert RequestValidator(AUTH_TOKEN).validate(PUBLIC_BASE_URL + DONE + "?tier=", forged, signature)
    assert tw.post(DONE + "?tier=", forged, signature=signature).status_code == 403


def test_a_terminated_query_cannot_give_its_last_character_to_a_field(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    params = _tier_done(call)
    signature = tw.signature_for(DONE + "?tier=1&end=1", params)
    forged = _shift_into_first_name(params, "1")
    assert RequestValidator(AUTH_TOKEN).validate(PUBLIC_BASE_URL + DONE + "?tier=1&end=", forged, signature)
    assert tw.post(DONE + "?tier=1&end=", forged, signature=signature).status_code == 403


def test_a_url_cut_before_its_query_cannot_hide_the_query_in_a_field(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    params = _tier_done(call)
    signature = tw.signature_for(DONE + "?tier=1&end=1", params)
    forged = _shift_into_first_name(params, "?tier=1&end=1")
    assert RequestValidator(AUTH_TOKEN).validate(PUBLIC_BASE_URL + DONE, forged, signature)
    assert tw.post(DONE, forged, signature=signature).status_code == 403


def test_a_signed_query_without_the_terminator_is_refused(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    assert tw.post(DONE + "?tier=0", _tier_done(call)).status_code == 403


def test_the_terminated_url_of_a_tier_is_accepted(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    assert tw.post(DONE + "?tier=0&end=1", _tier_done(call)).status_code == 200


def test_every_callback_url_of_the_child_line_ends_with_the_terminator(tw, db, chain):
    dial = dial_of(child_call(tw).post("/twilio/voice"))
    urls = [dial.get("action")] + [n.get("url") for n in dial.findall("Number")]
    assert urls and all(u.startswith(PUBLIC_BASE_URL) and u.endswith("&end=1") for u in urls), urls


def test_the_elderly_menu_url_ends_with_the_terminator(tw, db):
    root = parse_twiml(tw.new_call(from_="+8613700001111", to="+864768000001").post("/twilio/voice"))
    action = root.find("Gather").get("action")
    assert action.startswith(PUBLIC_BASE_URL + "/twilio/voice/menu?") and action.endswith("&end=1")


def test_a_webhook_url_puts_the_terminator_last_and_no_query_on_a_bare_route():
    assert webhook_url("https://h/", "/twilio/voice/ack", {"case": "012345", "officer": 3, "end": "0"}) == \
        "https://h/twilio/voice/ack?case=012345&officer=3&end=1"
    assert webhook_url("https://h", "/twilio/voice/message") == "https://h/twilio/voice/message"
