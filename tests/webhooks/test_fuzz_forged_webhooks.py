"""Bad input, unsigned or forged, on every Twilio webhook: 403, and nothing changes, is queued or spooled."""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import assume, given, note, strategies as st
from redis import Redis
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from dispatch.providers.webhook_urls import END
from dispatch.spool import SPOOL_KEY
from tests.conftest import AUTH_TOKEN
from tests.hypothesis_profiles import db_snapshot, fuzz_settings
from tests.webhooks.fuzz_requests import (
    CASE_CODE,
    ORIGIN,
    ROUTES,
    WEIRD,
    describe,
    over_limits,
    post,
    requests,
    seeded,  # noqa: F401 - fixtures
    sign,
)

pytestmark = pytest.mark.fuzz


def app_form(body: bytes, content_type: str) -> MultiDict:
    """The form the app will read from this body, parsed by the same Werkzeug code."""
    return Request(EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ()).form


FORGERIES = ("none", "empty", "garbage", "other_token", "http_url", "other_host", "other_route", "query_changed",
             "value_changed", "param_added", "param_removed", "algorithm_mismatch", "algorithm_unknown",
             "raw_bytes", "json_body", "unterminated", "shifted")
SIGNED_ALIKE = ("unterminated", "shifted")  # a valid signature all the same: refused for the URL's shape


@pytest.mark.parametrize("path", ROUTES)
def test_unsigned_or_forged_webhook_is_refused_and_changes_nothing(path, seeded, client, settings, app):
    """403 for anything not signed with our token over exactly this URL and these parameters; no row and no
    job is queued, scheduled or spooled."""
    engine = app.extensions["hotline"].engine
    queue = app.extensions["hotline"].queue
    redis = Redis.from_url(settings.redis_url)

    def redis_state():  # this test's queue and registries, and the spool (Redis db 15 may be shared)
        return (queue.count, queue.scheduled_job_registry.count, queue.deferred_job_registry.count,
                redis.llen(SPOOL_KEY))

    @fuzz_settings()
    @given(req=requests(path), forgery=st.sampled_from(FORGERIES), data=st.data())
    def check(req, forgery, data):
        note(f"{forgery}: {describe(req)}")
        headers, body, content_type = {}, None, "application/x-www-form-urlencoded"
        url = req.url
        if forgery == "none":
            signature = None
        elif forgery == "empty":
            signature = ""
        elif forgery == "garbage":
            signature = data.draw(st.one_of(
                st.binary(min_size=20, max_size=32).map(lambda b: base64.b64encode(b).decode()),
                st.text(st.characters(max_codepoint=0xFF, blacklist_categories=["Cc"]), max_size=60)))
        elif forgery == "other_token":
            signature = sign(url, req.pairs, token=data.draw(st.text(min_size=1, max_size=40)))
        elif forgery == "http_url":
            signature = sign(url.replace("https://", "http://", 1), req.pairs)
        elif forgery == "other_host":
            signature = sign(url.replace("hotline.example.gov.cn", "evil.example.com", 1), req.pairs)
        elif forgery == "other_route":
            other = data.draw(st.sampled_from([r for r in ROUTES if r != path]))
            signature = sign(ORIGIN + other + (f"?{req.query}" if req.query else ""), req.pairs)
        elif forgery == "query_changed":
            signature = sign(url, req.pairs)
            req.query = (req.query + "&" if req.query else "") + data.draw(st.sampled_from(
                ["tier=1", "officer=1", "case=" + CASE_CODE, "node=confirm&category=emergency", "x=1"]))
        elif forgery == "value_changed":
            assume(req.pairs)
            signature = sign(url, req.pairs)
            i = data.draw(st.integers(0, len(req.pairs) - 1))
            name, value = req.pairs[i]
            req.pairs = req.pairs[:i] + [(name, value + data.draw(st.sampled_from(["1", "x", "\x00", "接单"])))] \
                + req.pairs[i + 1:]
        elif forgery == "param_added":
            signature = sign(url, req.pairs)
            req.pairs = req.pairs + [data.draw(st.tuples(st.sampled_from(["Digits", "Body", "From", "Z"]), WEIRD))]
        elif forgery == "param_removed":
            assume(req.pairs)
            signature = sign(url, req.pairs)
            req.pairs = req.pairs[1:]
        elif forgery == "algorithm_mismatch":  # an HMAC-SHA1 signature announced as HMAC-SHA256, or the reverse
            sha256 = data.draw(st.booleans())
            signature = sign(url, req.pairs, algorithm=None if sha256 else "HMAC_SHA256")
            headers[SIGNATURE_SETTINGS_HEADER] = "algorithm=HMAC_SHA256" if sha256 else "algorithm=HMAC_SHA1"
        elif forgery == "algorithm_unknown":  # a valid SHA1 signature, but an algorithm we do not support
            signature = sign(url, req.pairs)
            headers[SIGNATURE_SETTINGS_HEADER] = "algorithm=" + data.draw(st.sampled_from(
                ["HMAC_MD5", "RSA", "none", "HMAC_SHA512", "HMAC-SHA1"]))
        elif forgery == "unterminated":  # a query that is not ours: it lacks the final end=1
            assume(req.query)
            req.query = req.query[:-len("&" + END)]
            assume(not req.query.endswith(END))
            signature = sign(req.url, req.pairs)
        elif forgery == "shifted":  # the query's last character moved into the first field name: signs alike
            assume(req.query and req.pairs)
            first = min(name for name, _ in req.pairs)
            assume(sum(1 for name, _ in req.pairs if name == first) == 1)
            signature = sign(url, req.pairs)
            req.query, moved = req.query[:-1], req.query[-1]
            req.pairs = [(moved + name if name == first else name, value) for name, value in req.pairs]
        elif forgery == "raw_bytes":  # not UTF-8 at all: the app reads no form, and the signature covers one
            body = data.draw(st.binary(min_size=1, max_size=2000))
            signature = sign(url, req.pairs)
        else:  # a JSON body signed as if it were the form
            body = json.dumps(dict(req.pairs)).encode()
            content_type = "application/json"
            signature = sign(url, req.pairs)
        if signature and forgery not in SIGNED_ALIKE:
            # Twilio's algorithm signs each distinct value once, so a forgery that only repeats a value the
            # key already had (or lands on the same string by chance) is no forgery: skip those.
            algorithm = get_signature_algorithm(headers.get(SIGNATURE_SETTINGS_HEADER))
            form = app_form(req.body if body is None else body, content_type)
            assume(not RequestValidator(AUTH_TOKEN).validate(req.url, form, signature, algorithm=algorithm))
        before = (db_snapshot(engine), redis_state())
        resp = post(client, req, signature, headers, body=body, content_type=content_type)
        expected = {403, 413} if over_limits(req.query, req.body if body is None else body) else {403}
        assert resp.status_code in expected, f"{forgery}: expected {expected}, got {resp.status_code}"
        assert (db_snapshot(engine), redis_state()) == before, f"{forgery}: a refused request changed data"

    check()
