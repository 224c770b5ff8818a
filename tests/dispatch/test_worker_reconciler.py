"""Nothing lost between commit and enqueue (issue 4, property 1): Redis down, a process killed, the reconciler."""
from __future__ import annotations

import secrets
import threading
import time

import pytest

from dispatch import reconcile, runtime
from dispatch.providers import LocalOutbox
from hotline.factory import create_app
from hotline.webhooks import receipts as webhooks
from ivr_flows.prompts import spoken_digits
from models import Order, set_status, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.dispatch.worker_reliability_helpers import FAST_RECONCILE, T1
from tests.live import CLOSED_REDIS_URL, signed, workers  # noqa: F401 - `workers` is a fixture
from tests.orders import HOUSEKEEPING, only_order, scheduled_jobs, sent_to
from tests.twilio_client import next_action, parse_twiml


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
