"""Provider faults on the queue side (issue 4, property 4): timeouts and 5xx retried within bounds, sent once.

The 429 and permanent codes are in tests/dispatch/test_dispatch_provider_faults.py.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from dispatch.jobs import SEND_RETRY
from models import utcnow
from tests import people
from tests.dispatch.worker_reliability_helpers import T1, _offer_row
from tests.orders import make_order, scheduled_jobs, sent_to


def _send_jobs(app):
    return [j for j in scheduled_jobs(app) if j.func_name == "dispatch.jobs.send_message_job"]


# --- 4. provider faults (429 and permanent codes: tests/dispatch/test_dispatch_provider_faults.py) ------------

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
