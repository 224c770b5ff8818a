"""Graceful degradation (issue 4, property 7): with neither database nor Redis a call still gets the fallback."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from tests import people
from tests.conftest import ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.live import CLOSED_DATABASE_URL, CLOSED_REDIS_URL, signed
from tests.twilio_client import parse_twiml
from tests.webhooks.reliability_helpers import T1, _app, _is_fallback


@pytest.fixture
def nothing_reachable(settings):
    """The app with neither its database nor Redis reachable, counting every attempt to reach them."""
    app = _app(settings, database_url=CLOSED_DATABASE_URL, redis_url=CLOSED_REDIS_URL)
    touched: list[str] = []
    state = app.extensions["hotline"]
    event.listen(state.engine, "do_connect", lambda *args: touched.append("database"))
    pool = state.queue.connection.connection_pool
    real = pool.get_connection
    pool.get_connection = lambda *a, **k: touched.append("redis") or real(*a, **k)
    yield app, touched
    state.engine.dispose()


def test_fallback_url_answers_with_apology_and_dial_without_database_or_redis(nothing_reachable):
    app, touched = nothing_reachable
    twilio = signed(app)
    call = twilio.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    _is_fallback(call.post("/twilio/fallback", ErrorCode="11200", ErrorUrl=PUBLIC_BASE_URL + "/twilio/voice"))
    sms = twilio.sms(from_=T1, to=ELDERLY_NUMBER, body="1", path="/twilio/fallback")
    assert sms.status_code == 200 and list(parse_twiml(sms)) == []
    assert touched == []
    assert twilio.post("/twilio/fallback", call.base_params(), signed=False).status_code == 403


def test_database_and_redis_both_down_a_call_still_gets_the_fallback(nothing_reachable):
    app, _touched = nothing_reachable
    call = signed(app).new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    _is_fallback(call.post("/twilio/voice"))
