"""A few exact bad inputs that once mattered, and the signature exactly as Twilio computes it, always run."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pytest
from redis import Redis

from dispatch.spool import SPOOL_KEY
from tests.conftest import AUTH_TOKEN, CHILD_NUMBER, ELDERLY_NUMBER
from tests.webhooks.fuzz_requests import (
    CALL_SIDS,
    CASE_CODE,
    ORIGIN,
    SMS_SIDS,
    T1,
    T2,
    Req,
    assert_twiml,
    post,
    seeded,  # noqa: F401 - fixtures
    sign,
)

pytestmark = pytest.mark.fuzz


# --- a few exact inputs that once mattered, always run -----------------------------------------------------

def _signed(client, path: str, query: str, pairs: list[tuple[str, str]]):
    req = Req(path, query, pairs)
    return post(client, req, sign(req.url, req.pairs))


ON_POSTGRES = (os.environ.get("HOTLINE_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
               or "").startswith("postgres")


def _known(id_: str, path: str, query: str, pairs: list, bug: str | None = None, db: str = "both"):
    """One exact input; `bug` marks a 5xx found by the fuzzer whose fix belongs to a file outside this
    change: strict xfail, so the test reports XPASS (and fails) once it is fixed; then drop `bug`."""
    broken = bug is not None and (db == "both" or (db == "postgres") == ON_POSTGRES)
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if broken else []
    return pytest.param(path, query, pairs, id=id_, marks=marks)


@pytest.mark.parametrize("path,query,pairs", [
    _known("tier-superscript", "/twilio/voice/operator", "tier=%C2%B2&end=1", [("CallSid", CALL_SIDS[0])]),
    _known("tier-arabic-indic", "/twilio/voice/operator/done", "tier=%D9%A3&end=1",
           [("CallSid", CALL_SIDS[0]), ("DialCallStatus", "no-answer")]),
    _known("officer-superscript", "/twilio/voice/screen/answer", "officer=%C2%B2&end=1",
           [("CallSid", CALL_SIDS[1]), ("ParentCallSid", CALL_SIDS[0]), ("Digits", "1")]),
    _known("officer-overflow", "/twilio/voice/screen/answer", "officer=" + "9" * 20 + "&end=1",
           [("ParentCallSid", CALL_SIDS[0]), ("Digits", "1")]),
    _known("officer-2000-digits", "/twilio/voice/screen/answer", "officer=" + "9" * 2000 + "&end=1",
           [("ParentCallSid", CALL_SIDS[0]), ("Digits", "1")]),
    _known("ack-officer-superscript", "/twilio/voice/ack", f"case={CASE_CODE}&officer=%C2%B2&end=1",
           [("CallSid", CALL_SIDS[2]), ("Digits", "1")]),
    _known("ack-officer-overflow", "/twilio/voice/ack", f"case={CASE_CODE}&officer=" + "9" * 20 + "&end=1",
           [("CallSid", CALL_SIDS[2]), ("Digits", "1")]),
    _known("duration-superscript", "/twilio/voice/status", "",
           [("CallSid", CALL_SIDS[3]), ("CallStatus", "completed"), ("CallDuration", "²")]),
    _known("duration-4301-digits", "/twilio/voice/status", "",
           [("CallSid", CALL_SIDS[3]), ("CallStatus", "completed"), ("CallDuration", "9" * 4301)]),
    _known("order-from-long-plus", "/twilio/voice/menu", "node=confirm&category=housekeeping&end=1",
           [("CallSid", CALL_SIDS[0]), ("Digits", "1"), ("From", "+" + "1" * 40)]),
    _known("sms-nul", "/twilio/sms", "", [("MessageSid", SMS_SIDS[0]), ("From", T1), ("Body", "接单\x00")]),
    _known("voice-nul", "/twilio/voice", "", [("CallSid", "CA\x00"), ("From", "\x00"), ("To", CHILD_NUMBER)]),
    _known("ack-case-nul", "/twilio/voice/ack", "case=%00&officer=1&end=1",
           [("CallSid", CALL_SIDS[2]), ("Digits", "1")]),
])
def test_known_bad_inputs_get_twiml(seeded, client, settings, path, query, pairs):
    assert_twiml(_signed(client, path, query, pairs))
    assert not Redis.from_url(settings.redis_url).llen(SPOOL_KEY), "answered as if the database were down"


def test_duplicate_value_is_covered_by_the_signature_as_twilio_computes_it(seeded, client):
    """Twilio's algorithm signs each distinct value of a key once, so a repeated identical pair keeps the
    signature valid; the app must still answer it as the same (or a harmless) delivery, never a 5xx."""
    pairs = [("MessageSid", SMS_SIDS[1]), ("From", T2), ("To", ELDERLY_NUMBER), ("Body", "帮助")]
    req = Req("/twilio/sms", "", pairs)
    signature = sign(req.url, pairs)
    first = post(client, req, signature)
    doubled = Req("/twilio/sms", "", pairs + [("Body", "帮助")], token=req.token)
    assert sign(doubled.url, doubled.pairs) == signature
    assert_twiml(first)
    assert_twiml(post(client, doubled, signature))


def test_hmac_sha256_signature_is_the_one_twilio_documents():
    """The signer used above agrees with an independent HMAC over URL + sorted key/value pairs."""
    url, pairs = ORIGIN + "/twilio/sms?x=1", [("b", "2"), ("a", "1"), ("a", "0")]
    expected = base64.b64encode(hmac.new(AUTH_TOKEN.encode(), (url + "a0a1b2").encode(), hashlib.sha256)
                                .digest()).decode()
    assert sign(url, pairs, algorithm="HMAC_SHA256") == expected
