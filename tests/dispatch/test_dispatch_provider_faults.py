"""Dispatch through the RQ worker: rate limits are retried, permanent failures are not, unreachable numbers skipped."""
from __future__ import annotations

from datetime import timedelta

from models import utcnow
from tests import people
from tests.dispatch.dispatch_helpers import T1, T2, _offer_row
from tests.orders import make_order, only_order, scheduled_jobs, sent_to


def _send_jobs(app):
    return [j for j in scheduled_jobs(app) if j.func_name == "dispatch.jobs.send_message_job"]


def test_rate_limited_send_is_scheduled_for_retry_and_stays_queued(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    fake_twilio.fail_next(1, 429, 20429)
    run_worker()
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("queued", 1)
    assert fake_twilio.messages == []
    [job] = _send_jobs(app)
    assert job.args == (row.id,)
    at = app.extensions["hotline"].queue.scheduled_job_registry.get_scheduled_time(job)
    assert 2 <= (at - utcnow()).total_seconds() <= 10


def test_rate_limited_send_goes_out_once_when_its_retry_is_due(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    fake_twilio.fail_next(1, 429, 20429)
    run_worker()
    registry = app.extensions["hotline"].queue.scheduled_job_registry
    for job in _send_jobs(app):  # let the retry interval pass without waiting for it
        registry.schedule(job, utcnow() - timedelta(seconds=1))
    run_worker()
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("sent", 2)
    assert sent_to(fake_twilio) == [T1]
    assert row.provider_sid == fake_twilio.messages[0]["sid"]


def test_permanent_failure_marks_the_message_failed_and_is_not_retried(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    fake_twilio.set_number_behaviour(T1, "unsubscribed")
    run_worker()
    run_worker()
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "21610" in row.error
    assert _send_jobs(app) == []
    assert len([r for r in fake_twilio.requests if r["path"].endswith("/Messages.json")]) == 1


def test_unreachable_technician_is_skipped_at_once_for_the_next_one(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.0)
    make_order(app, db, resident)
    fake_twilio.set_number_behaviour(T1, "unsubscribed")
    run_worker()
    order = only_order(db)
    assert [a.status for a in order.offers] == ["failed", "pending"]
    assert sent_to(fake_twilio) == [T2]
