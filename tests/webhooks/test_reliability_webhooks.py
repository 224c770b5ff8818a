"""Reliability of the webhooks under duplicates, races and a database outage (issue 4, properties 2, 5, 7).

Parallel requests go through a real threaded HTTP server (tests/live.py), so 50 identical deliveries really
race each other in 50 threads with 50 database sessions, on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import event, func, select, text

from dispatch import runtime
from dispatch.providers import InboundSms, LocalOutbox
from dispatch.spool import SPOOL_FAILED_KEY, SPOOL_KEY, replay, spool
from hotline.factory import create_app
from ivr_flows.prompts import spoken_digits
from models import CallLog, Case, Message, OfferAttempt, Order, OrderEvent, set_status, utcnow
from tests import people
from tests.conftest import AUTH_TOKEN, CHILD_NUMBER, ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.live import CLOSED_DATABASE_URL, CLOSED_REDIS_URL, http_tw, in_parallel, serve, signed
from tests.orders import answer, make_order, only_order, texts_to
from tests.twilio_client import TwilioWebhookClient, next_action, parse_twiml

T1 = "+8613800000001"
FALLBACK_NUMBER = "+8613700009999"
PARALLEL = 50


def _events(db, order_id: int, kind: str) -> int:
    db.expire_all()
    return db.scalar(select(func.count(OrderEvent.id)).where(OrderEvent.order_id == order_id,
                                                           OrderEvent.kind == kind))


def _count(db, model, *where) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model).where(*where))


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


@pytest.fixture
def offered(app, db, run_worker, fake_twilio):
    """A housekeeping order offered to 张师傅 (T1) by the worker."""
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    order = make_order(app, db, resident)
    run_worker()
    assert texts_to(fake_twilio, T1)
    return order


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


def _call_row(db, sid: str) -> CallLog:
    db.expire_all()
    return db.scalars(select(CallLog).where(CallLog.call_sid == sid)).one()


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


# --- 5. one winner, with real concurrency ---------------------------------------------------------

def test_ten_technicians_accepting_at_the_same_moment_make_exactly_one_assignment(app, tw, db, run_worker,
                                                                                 fake_twilio):
    resident = people.resident(db)
    phones = [f"+86138000001{i:02d}" for i in range(10)]
    techs = [people.technician(db, f"急救{i}", phone, km_north=0.1 * (i + 1), skills="emergency")
             for i, phone in enumerate(phones)]
    order = Order(code="500600", category="emergency", resident_id=resident.id, created_at=utcnow())
    db.add(order)
    set_status(db, order, "offered")
    now = utcnow()
    for tech in techs:
        db.add(OfferAttempt(order=order, technician=tech, sent_at=now, expires_at=now + timedelta(minutes=3)))
    db.commit()
    with serve(app) as base:
        http = http_tw(base)
        responses = in_parallel(lambda phone: http.sms(from_=phone, to=ELDERLY_NUMBER, body="1"),
                                [(p,) for p in phones])
    said = dict(zip(phones, (answer(r) for r in responses)))
    order = only_order(db)
    assert order.status == "accepted" and order.technician_id is not None
    winner = order.technician.phone
    assert [p for p, text in said.items() if "已接单" in text and "他人" not in text] == [winner]
    assert sorted(p for p, text in said.items() if "已由他人接单" in text) == sorted(set(phones) - {winner})
    assert _events(db, order.id, "status:accepted") == 1
    assert sorted(a.status for a in order.offers) == ["accepted"] + ["superseded"] * 9
    run_worker()
    assert len(texts_to(fake_twilio, people.RESIDENT_MOBILE)) == 1


# --- 7. graceful degradation: the fallback and a database outage ----------------------------------

def _app(settings, **changes):
    app = create_app(settings.with_overrides(fallback_number=FALLBACK_NUMBER, **changes))
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an unexpected error must show as the 500 Twilio would get
    return app


def _is_fallback(resp) -> None:
    root = parse_twiml(resp)
    assert [verb.tag for verb in root] == ["Say", "Dial"]
    assert "对不起" in "".join(root[0].itertext()) and root[0].get("language") == "cmn-CN"
    assert "".join(root[1].itertext()).strip() == FALLBACK_NUMBER


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


@pytest.fixture
def database_down(settings):
    """The app while its database is down (Redis is up): what Twilio reaches during the outage."""
    app = _app(settings, database_url=CLOSED_DATABASE_URL)
    yield app
    app.extensions["hotline"].engine.dispose()


def _spooled(settings) -> int:
    return Redis.from_url(settings.redis_url).llen(SPOOL_KEY)


def _healthy_runtime(app):
    state = app.extensions["hotline"]
    return runtime.configure(state.settings, queue=state.queue, session_factory=state.session_factory)


VOICE_WEBHOOKS = ("/twilio/voice", "/twilio/voice/menu?node=root&end=1", "/twilio/voice/operator?tier=0&end=1",
                  "/twilio/voice/operator/done?tier=0&end=1", "/twilio/voice/message", "/twilio/voice/status")


def test_database_down_voice_webhooks_answer_the_fallback_and_the_call_is_logged_later(app, db, settings,
                                                                                     database_down):
    people.resident(db)
    twilio = signed(database_down)
    elderly = twilio.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    child = twilio.new_call(from_="+8613912345678", to=CHILD_NUMBER)
    reference = twilio.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER).post("/twilio/fallback")
    answers = [elderly.post(path, Digits="2") for path in VOICE_WEBHOOKS] + [child.post("/twilio/voice")]
    answers.append(elderly.status("completed", CallDuration="30"))
    for resp in answers:
        _is_fallback(resp)
        assert resp.get_data() == reference.get_data()
    assert _spooled(settings) == len(answers)
    assert _count(db, CallLog) == 0  # nothing could be written while the database was down

    assert replay(_healthy_runtime(app)) == len(answers)  # the database is back
    logged = {row.call_sid: (row.from_phone, row.line, row.outcome) for row in db.scalars(select(CallLog))}
    assert logged == {elderly.sid: (people.RESIDENT_MOBILE, "elderly", "fallback"),
                      child.sid: ("+8613912345678", "child", "fallback")}
    ended = _call_row(db, elderly.sid)
    assert (ended.status, ended.duration_s) == ("completed", 30) and ended.ended_at >= ended.started_at
    assert _call_row(db, child.sid).ended_at is None  # its status callback has not come yet
    assert _spooled(settings) == 0 and replay(_healthy_runtime(app)) == 0
    assert _count(db, CallLog) == 2


def test_an_accept_sent_while_the_database_was_down_takes_effect_on_replay_and_is_answered_by_sms(
        app, db, settings, offered, database_down, run_worker, fake_twilio):
    resp = signed(database_down).sms(from_=T1, to=ELDERLY_NUMBER, body="1")
    assert resp.status_code == 200 and list(parse_twiml(resp)) == []  # the answer follows by SMS
    assert only_order(db).status == "offered" and _spooled(settings) == 1

    assert replay(_healthy_runtime(app)) == 1
    order = only_order(db)
    assert order.status == "accepted" and order.technician.phone == T1
    run_worker()
    [offer, late_answer] = texts_to(fake_twilio, T1)
    assert "已接单" in late_answer and order.code in late_answer
    assert len(texts_to(fake_twilio, people.RESIDENT_MOBILE)) == 1
    assert replay(_healthy_runtime(app)) == 0


def _spool_call(connection, sid: str) -> None:
    spool(connection, "/twilio/voice", {"CallSid": [sid], "From": [people.RESIDENT_MOBILE], "To": [ELDERLY_NUMBER],
                                        "CallStatus": ["ringing"]})


class _InterruptedRedis(Redis):
    """A replaying worker's Redis where, just before it takes its first entry off the spool, another worker
    replays one entry: the window two reconcile threads can meet in, made certain."""

    interrupt = None

    def lpop(self, *args, **kwargs):
        self._interrupted()
        return super().lpop(*args, **kwargs)

    def lrem(self, *args, **kwargs):
        self._interrupted()
        return super().lrem(*args, **kwargs)

    def _interrupted(self):
        interrupt, self.interrupt = self.interrupt, None
        if interrupt is not None:
            interrupt()


@pytest.mark.parametrize("lock_expired", [False, True], ids=["one-at-a-time", "lock-expired"])
def test_two_workers_replaying_the_spool_at_once_lose_nothing(app, db, settings, monkeypatch, lock_expired):
    """Every worker's reconcile thread replays the spool: two at once must not drop an entry between them,
    even when the first one's replay lock has expired (a replay that hung on a slow database)."""
    state = app.extensions["hotline"]
    sids = [f"CA{i:032d}" for i in range(3)]
    for sid in sids:
        _spool_call(state.queue.connection, sid)
    first = runtime.Runtime(state.settings, state.session_factory, LocalOutbox(),
                            Queue(settings.queue_name, connection=_InterruptedRedis.from_url(settings.redis_url)))
    second = runtime.Runtime(state.settings, state.session_factory, LocalOutbox(), state.queue)

    def second_worker_replays_one():
        with monkeypatch.context() as patch:
            patch.setattr("dispatch.spool.BATCH", 1)
            if lock_expired:
                patch.setattr("dispatch.spool.REPLAY_LOCK_KEY", "hotline:spool:replaying:expired")
            replay(second)

    first.queue.connection.interrupt = second_worker_replays_one
    replay(first)
    replay(second)  # and the next round, whoever runs it
    db.expire_all()
    assert sorted(db.scalars(select(CallLog.call_sid))) == sids
    assert _spooled(settings) == 0


def test_a_spooled_entry_that_cannot_be_replayed_is_set_aside_and_blocks_nothing(app, db, settings, run_worker,
                                                                                 fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    order = Order(code="700800", category="housekeeping", resident_id=resident.id, created_at=utcnow())
    db.add(order)
    set_status(db, order, "pending")
    db.commit()  # an order whose enqueue was lost
    connection = app.extensions["hotline"].queue.connection
    connection.rpush(SPOOL_KEY, "{not json")  # whatever it is, replaying it fails every time
    _spool_call(connection, "CA" + "9" * 32)  # and a good one behind it
    run_worker()  # the start-up pass replays, then reconciles
    assert texts_to(fake_twilio, T1)
    assert _count(db, CallLog, CallLog.call_sid == "CA" + "9" * 32) == 1
    assert _spooled(settings) == 0
    assert connection.lrange(SPOOL_FAILED_KEY, 0, -1) == [b"{not json"]  # kept for a person, not lost


def test_a_child_call_taken_by_the_fallback_becomes_a_missed_case_with_alerts_on_replay(app, db, settings,
                                                                                       database_down):
    officer = people.officer(db, "值班员", "+8613804760001", line="child")
    child = signed(database_down).new_call(from_="+8613912345678", to=CHILD_NUMBER)
    _is_fallback(child.post("/twilio/voice"))
    replay(_healthy_runtime(app))
    db.expire_all()
    case = db.scalar(select(Case))
    assert (case.call_sid, case.status, case.caller) == (child.sid, "missed", "+8613912345678")
    alerted = db.scalars(select(Message.to_phone).where(Message.case_id == case.id)).all()
    assert alerted == [officer.phone]


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
