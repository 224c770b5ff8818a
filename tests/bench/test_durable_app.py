"""The durable anchor of `make bench` does what its docstring claims: the signature check, one row, one job."""
from __future__ import annotations

import uuid

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from bench.durable_app import BENCH_CALLS, create_app, reset_table
from models import make_engine
from tests.conftest import AUTH_TOKEN, ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.twilio_client import TwilioWebhookClient, parse_twiml

CALLER = "+8613904761234"


@pytest.fixture
def durable(database_url, redis_url):
    """The durable app on the test database (its table fresh) and a queue of its own on the test Redis."""
    Redis.from_url(redis_url).flushdb()
    engine = make_engine(database_url)
    reset_table(engine)
    queue_name = f"bench-test-{uuid.uuid4().hex[:8]}"
    app = create_app(PUBLIC_BASE_URL, AUTH_TOKEN, database_url, redis_url, queue_name)
    yield app, engine, Queue(queue_name, connection=Redis.from_url(redis_url))
    app.extensions["bench_engine"].dispose()
    BENCH_CALLS.drop(engine, checkfirst=True)
    engine.dispose()


def _rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(BENCH_CALLS.c.call_sid, BENCH_CALLS.c.step, BENCH_CALLS.c.digits)).all()


def test_an_unsigned_webhook_is_refused_and_writes_nothing(durable):
    app, engine, queue = durable
    tw = TwilioWebhookClient(app.test_client(), auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL)
    call = tw.new_call(CALLER, ELDERLY_NUMBER)
    assert tw.post("/twilio/voice", call.base_params(), signed=False).status_code == 403
    assert tw.post("/twilio/voice", call.base_params(), signature="forged").status_code == 403
    assert _rows(engine) == [] and queue.count == 0


def test_each_signed_webhook_upserts_the_calls_one_row_and_the_confirm_enqueues_one_job(durable):
    app, engine, queue = durable
    tw = TwilioWebhookClient(app.test_client(), auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL)
    call = tw.new_call(CALLER, ELDERLY_NUMBER)
    greeting = call.post("/twilio/voice")
    parse_twiml(greeting)
    assert _rows(engine) == [(call.sid, "greeting", "")] and queue.count == 0
    menu = call.follow(greeting, Digits="2")
    assert _rows(engine) == [(call.sid, "menu", "2")] and queue.count == 0
    confirm = call.follow(menu, Digits="1")
    assert b"<Hangup" in confirm.get_data()
    assert _rows(engine) == [(call.sid, "confirm", "1")]
    assert [job.func_name for job in queue.get_jobs()] == ["bench.noop.noop"]


def test_two_calls_keep_two_rows(durable):
    app, engine, _queue = durable
    tw = TwilioWebhookClient(app.test_client(), auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL)
    for _ in range(2):
        tw.new_call(CALLER, ELDERLY_NUMBER).post("/twilio/voice")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(BENCH_CALLS)) == 2
