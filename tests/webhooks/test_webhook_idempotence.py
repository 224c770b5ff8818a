"""Idempotent webhooks (issue 4, property 2): identical, retried and late deliveries have one effect.

Parallel requests go through a real threaded HTTP server (tests/live.py), so 50 identical deliveries really
race each other in 50 threads with 50 database sessions, on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import secrets

import pytest
from sqlalchemy import event, select, text

from dispatch.providers import InboundSms
from ivr_flows.prompts import spoken_digits
from models import CallLog, Message, Order, utcnow
from tests import people
from tests.conftest import AUTH_TOKEN, CHILD_NUMBER, ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.live import http_tw, in_parallel, serve
from tests.orders import answer, only_order, texts_to
from tests.twilio_client import TwilioWebhookClient, next_action, parse_twiml
from tests.webhooks.reliability_helpers import (
    T1,
    _call_row,
    _count,
    _events,
    offered,  # noqa: F401 - fixtures
)

PARALLEL = 50


def _bodies(responses) -> set[bytes]:
    assert [r.status_code for r in responses] == [200] * len(responses)
    return {r.get_data() for r in responses}


# --- 2. idempotent webhooks: 50 identical deliveries at once --------------------------------------

def test_fifty_identical_confirms_at_once_make_one_order_and_the_same_twiml(app, tw, db):
    people.resident(db)
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    menu = call.follow(call.post("/twilio/voice"), Digits="2")  # housekeeping; next: 1 to confirm
    confirm = next_action(parse_twiml(menu), call.last_path)
    params = {**call.base_params(), "Digits": "1"}
    token = secrets.token_hex(16)  # a retry repeats its I-Twilio-Idempotency-Token
    with serve(app) as base:
        http = http_tw(base)
        responses = in_parallel(lambda: http.post(confirm, params, headers={"I-Twilio-Idempotency-Token": token}),
                                [()] * PARALLEL)
    [body] = _bodies(responses)
    order = only_order(db)
    assert spoken_digits(order.code) in body.decode()
    row = db.scalars(select(CallLog).where(CallLog.call_sid == call.sid)).one()
    assert row.path == "21" and row.order_id == order.id  # the confirming "1" recorded once, not 50 times
    assert _events(db, order.id, "status:pending") == 1
    assert len(app.extensions["hotline"].queue.get_job_ids()) == 1  # one offer job, not 50
    assert _count(db, Order) == 1 and _count(db, CallLog) == 1


def test_a_walk_goes_on_when_the_database_dropped_the_hot_path_connections(app, tw, db):
    """The webhooks' own pool does not ping at checkout: a connection the server closed since (a restart, an
    idle cut-off) fails its one statement, which is idempotent and runs once more on a new connection."""
    hot = app.extensions["hotline"].hot_engine
    if hot.dialect.name != "postgresql":
        pytest.skip("SQLite shares the app's engine; PostgreSQL has the hot path's own pool")
    pooled: set[int] = set()

    def pooled_again(dbapi_conn, _record) -> None:
        if dbapi_conn is not None:  # None: a connection found dead, given back invalidated
            pooled.add(dbapi_conn.info.backend_pid)

    event.listen(hot, "checkin", pooled_again)
    people.resident(db)
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    greeting = call.post("/twilio/voice")
    assert pooled, "the greeting used the hot path's pool"

    def drop_pooled() -> None:
        for pid in pooled:
            db.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        db.commit()
        pooled.clear()

    drop_pooled()
    menu = call.follow(greeting, Digits="2")
    assert parse_twiml(menu).find("Gather") is not None
    drop_pooled()
    done = call.follow(menu, Digits="1")
    order = only_order(db)
    assert spoken_digits(order.code) in done.get_data(as_text=True)
    row = db.scalars(select(CallLog).where(CallLog.call_sid == call.sid)).one()
    assert (row.path, row.order_id, row.outcome) == ("21", order.id, "order")


def _sms_params(tw, sid: str, body: str = "1", sender: str = T1) -> dict:
    """What Twilio posts for one inbound SMS (as TwilioWebhookClient.sms builds it)."""
    seen = {}

    class Capture:
        def post(self, path, data=None, headers=None, base_url=None):
            seen.update(data)

    TwilioWebhookClient(Capture(), auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL,
                        account_sid=tw.account_sid).sms(from_=sender, to=ELDERLY_NUMBER, body=body, sid=sid)
    return seen


def test_fifty_identical_accepts_at_once_have_one_effect_and_the_same_answer(app, tw, db, offered, run_worker,
                                                                            fake_twilio):
    sid, token = "SM" + secrets.token_hex(16), secrets.token_hex(16)
    params = _sms_params(tw, sid)
    with serve(app) as base:
        http = http_tw(base)
        responses = in_parallel(lambda: http.post("/twilio/sms", params,
                                                  headers={"I-Twilio-Idempotency-Token": token}), [()] * PARALLEL)
    [body] = _bodies(responses)
    assert "已接单" in body.decode() and offered.code in body.decode()
    order = only_order(db)
    assert order.status == "accepted" and order.technician.phone == T1
    assert _events(db, order.id, "status:accepted") == 1
    assert _count(db, Message, Message.direction == "inbound", Message.provider_sid == sid) == 1
    run_worker()
    assert len(texts_to(fake_twilio, people.RESIDENT_MOBILE)) == 1  # one "who is coming" SMS
    assert len(texts_to(fake_twilio, T1)) == 1  # only the offer: the answer went out once, as TwiML


def test_fifty_deliveries_of_one_message_sid_with_new_tokens_have_one_effect(app, tw, db, offered, run_worker,
                                                                           fake_twilio):
    """Not retries (each has its own idempotency token) but the same MessageSid: still one effect, and
    every answer that says something says the same thing."""
    sid = "SM" + secrets.token_hex(16)
    params = _sms_params(tw, sid)
    with serve(app) as base:
        http = http_tw(base)
        responses = in_parallel(lambda: http.post("/twilio/sms", params), [()] * PARALLEL)
    said = {answer(r) for r in responses} - {""}
    assert len(said) == 1 and "已接单" in said.pop()
    order = only_order(db)
    assert _events(db, order.id, "status:accepted") == 1
    assert _count(db, Message, Message.direction == "inbound", Message.provider_sid == sid) == 1
    run_worker()
    assert len(texts_to(fake_twilio, people.RESIDENT_MOBILE)) == 1


def test_status_callbacks_twice_and_out_of_order_change_nothing_wrongly(tw, db):
    people.resident(db)
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    assert call.status("completed", CallDuration="42").status_code == 200
    first = _call_row(db, call.sid)
    final = (first.status, first.ended_at, first.duration_s, first.outcome)
    assert final[0] == "completed" and final[1] is not None and final[2] == 42
    again = call.history[-1][1]
    assert tw.post("/twilio/voice/status", again).status_code == 200  # redelivered (a new token)
    assert call.status("completed", CallDuration="43").status_code == 200  # a second, different "completed"
    for late in ("in-progress", "ringing"):  # callbacks that arrive after the final one
        assert call.status(late).status_code == 200
    row = _call_row(db, call.sid)
    assert (row.status, row.ended_at, row.duration_s, row.outcome) == final
    assert _count(db, CallLog) == 1


def test_a_missed_child_call_reported_twice_and_late_starts_one_alert(tw, db, run_worker, fake_twilio):
    people.officer(db, "值班员", "+8613700000001", line="child")
    call = tw.new_call(from_="+8613912345678", to=CHILD_NUMBER)
    call.post("/twilio/voice")
    for status in ("completed", "completed", "in-progress"):
        assert call.status(status, CallDuration="9").status_code == 200
    run_worker()
    row = _call_row(db, call.sid)
    assert (row.status, row.outcome) == ("completed", "missed")
    assert len(texts_to(fake_twilio, "+8613700000001")) == 1


def test_an_sms_whose_handling_failed_is_handled_afresh_on_retry(app, db, settings, offered, monkeypatch):
    import dispatch.inbound as inbound

    real = inbound.handle_reply
    monkeypatch.setattr(inbound, "handle_reply", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("bug")))
    with pytest.raises(RuntimeError):
        inbound.receive_sms(db, InboundSms("SM" + "7" * 32, T1, ELDERLY_NUMBER, "1"), settings, utcnow())
    db.rollback()
    assert _count(db, Message, Message.direction == "inbound") == 0  # nothing kept: the retry is not a duplicate
    monkeypatch.setattr(inbound, "handle_reply", real)
    text, _follow = inbound.receive_sms(db, InboundSms("SM" + "7" * 32, T1, ELDERLY_NUMBER, "1"), settings, utcnow())
    assert "已接单" in text
