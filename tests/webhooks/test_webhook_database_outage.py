"""A database outage (issue 4, property 7): webhooks answer the fallback, spool, and the replay loses nothing."""
from __future__ import annotations

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from dispatch import runtime
from dispatch.providers import LocalOutbox
from dispatch.spool import SPOOL_FAILED_KEY, SPOOL_KEY, replay, spool
from models import CallLog, Case, Message, Order, set_status, utcnow
from tests import people
from tests.conftest import CHILD_NUMBER, ELDERLY_NUMBER
from tests.live import CLOSED_DATABASE_URL, signed
from tests.orders import only_order, texts_to
from tests.twilio_client import parse_twiml
from tests.webhooks.reliability_helpers import (
    T1,
    _app,
    _call_row,
    _count,
    _is_fallback,
    offered,  # noqa: F401 - fixtures
)


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
