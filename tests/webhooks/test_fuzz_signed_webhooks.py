"""Bad input, correctly signed, on every Twilio webhook: never a 5xx, always valid TwiML calling back only to us."""
from __future__ import annotations

import pytest
from hypothesis import given, note, strategies as st
from redis import Redis
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER

from dispatch.spool import SPOOL_KEY
from tests.hypothesis_profiles import fuzz_settings
from tests.webhooks.fuzz_requests import (
    ORIGIN,
    ROUTES,
    assert_twiml,
    describe,
    over_limits,
    post,
    requests,
    seeded,  # noqa: F401 - fixtures
    sign,
)

pytestmark = pytest.mark.fuzz


@pytest.mark.parametrize("path", ROUTES)
def test_signed_webhook_never_fails_and_answers_twiml(path, seeded, client, settings):
    """Anything Twilio could sign gets 200 and valid TwiML; a repeated delivery gets the same answer; and
    the answer never comes from the database-down fallback (a bad value is not an outage)."""
    redis = Redis.from_url(settings.redis_url)

    @fuzz_settings()
    @given(req=requests(path), variant=st.sampled_from(["sha1", "sha1", "sha1", "port", "sha256"]),
           again=st.booleans())
    def check(req, variant, again):
        note(describe(req))
        headers = {}
        if variant == "port":  # Twilio may sign the URL with the port; the validator accepts both forms
            signature = sign(req.url.replace(ORIGIN, ORIGIN + ":443", 1), req.pairs)
        elif variant == "sha256":
            signature = sign(req.url, req.pairs, algorithm="HMAC_SHA256")
            headers[SIGNATURE_SETTINGS_HEADER] = "key=webhooks_sharedkey_test,algorithm=HMAC_SHA256"
        else:
            signature = sign(req.url, req.pairs)
        redis.delete(SPOOL_KEY)
        resp = post(client, req, signature, headers)
        if over_limits(req.query, req.body):
            assert resp.status_code == 413
            return
        assert resp.status_code != 403, "a correctly signed request was refused"
        assert_twiml(resp)
        assert not redis.llen(SPOOL_KEY), "a bad value was taken for a database outage (fallback TwiML, spooled)"
        if again:  # Twilio's retry: same content, same idempotency token
            repeat = post(client, req, signature, headers)
            assert_twiml(repeat)
            assert repeat.get_data() == resp.get_data(), "a repeated delivery got another answer"

    check()
