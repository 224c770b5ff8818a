"""The registry of job kinds: every kind of deferred work is scheduled, found overdue and matched in Redis by it."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from rq import Retry

from dispatch import deferred
from dispatch.deferred import Deferred
from dispatch.jobs import KIND_META, KINDS, schedule
from dispatch.reconcile import LEGACY_FUNC_NAMES, kind_of, not_in_redis, overdue_work, reconcile, summary
from dispatch.runtime import Runtime
from models import Case, CaseTask, Message, OfferAttempt, Order, Visit, utcnow
from tests import people
from tests.orders import scheduled_jobs

ALL_KINDS = sorted(KINDS)
# Arguments of the right shape for each kind (IDs; alert rounds also take the round number).
ARGS = {deferred.ALERT_ROUND: (7, 2), deferred.TASK_OVERDUE: (7, 1), deferred.POLICE_ALERT: (7, 2),
        deferred.VERIFY_ARRIVAL: (7, 2)}


def _record(kind: str, at=None) -> Deferred:
    return Deferred(kind, ARGS.get(kind, (7,)), at)


def _queue(app):
    return app.extensions["hotline"].queue


def _waiting(app):
    return _queue(app).get_jobs()


def test_every_kind_key_of_the_deferred_module_has_an_entry_in_the_registry():
    keys = {value for name, value in vars(deferred).items() if name.isupper() and isinstance(value, str)}
    assert keys == set(KINDS)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_has_a_job_of_dispatch_jobs_a_retry_policy_and_an_overdue_query(kind):
    entry = KINDS[kind]
    assert entry.job.__module__ == "dispatch.jobs" and entry.job.__doc__
    assert entry.retry is None or isinstance(entry.retry, Retry)
    assert callable(entry.overdue) and entry.overdue.__doc__ and entry.label


def test_sends_and_offers_are_retried_by_the_queue():
    assert (KINDS[deferred.SEND].retry.max, KINDS[deferred.OFFER].retry.max) == (5, 3)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_scheduling_a_record_due_now_enqueues_its_kinds_job_with_the_kind_key(app, kind):
    assert schedule(_queue(app), [_record(kind)])
    [job] = _waiting(app)
    assert (job.func_name, job.args, job.meta[KIND_META]) == (f"dispatch.jobs.{KINDS[kind].job.__name__}",
                                                             _record(kind).args, kind)
    assert scheduled_jobs(app) == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_scheduling_a_record_due_later_enqueues_its_kinds_job_at_its_time(app, kind):
    at = utcnow() + timedelta(minutes=5)
    assert schedule(_queue(app), [_record(kind, at)])
    [job] = scheduled_jobs(app)
    assert (job.func_name.rpartition(".")[2], job.args, kind_of(job)) == (KINDS[kind].job.__name__,
                                                                         _record(kind).args, kind)
    when = _queue(app).scheduled_job_registry.get_scheduled_time(job)
    assert abs(when - at) < timedelta(seconds=1)
    assert _waiting(app) == []


def test_a_records_time_already_past_runs_its_job_now(app):
    assert schedule(_queue(app), [deferred.arrival_check(7, utcnow() - timedelta(minutes=1))])
    assert [j.args for j in _waiting(app)] == [(7,)] and scheduled_jobs(app) == []


def test_scheduling_enqueues_a_decisions_sends_before_its_other_jobs(app):
    assert schedule(_queue(app), [deferred.offer(1), deferred.send(2), deferred.send(3)])
    assert [kind_of(j) for j in _waiting(app)] == [deferred.SEND, deferred.SEND, deferred.OFFER]


# --- what the database says is overdue, one row per kind -----------------------------------------------


@pytest.fixture
def overdue_rows(db, settings):
    """One row of each kind of overdue work; returns the records the reconciler should find for them."""
    long_ago = utcnow() - timedelta(days=1)
    resident = people.resident(db)
    tech = people.technician(db, "张师傅", "+8613800000002")
    pending = Order(code="100001", category="housekeeping", resident_id=resident.id, created_at=long_ago,
                    status="pending")
    offered = Order(code="100002", category="housekeeping", resident_id=resident.id, created_at=long_ago,
                    status="offered")
    accepted = Order(code="100003", category="housekeeping", resident_id=resident.id, created_at=long_ago,
                     status="accepted", technician_id=tech.id, accepted_at=long_ago)
    completed = Order(code="100004", category="housekeeping", resident_id=resident.id,
                      created_at=utcnow() - timedelta(hours=2), status="completed", technician_id=tech.id,
                      accepted_at=long_ago, completed_at=utcnow() - timedelta(hours=1),
                      caller_phone=people.RESIDENT_MOBILE, sla_breached=True)
    arrived = Order(code="100005", category="housekeeping", resident_id=resident.id, created_at=long_ago,
                    status="arrived", technician_id=tech.id, accepted_at=long_ago, arrived_at=long_ago,
                    sla_breached=True)
    db.add_all([pending, offered, accepted, completed, arrived])
    db.flush()
    visit = Visit(order_id=arrived.id, arrived_at=long_ago, verify_attempts=1, next_verify_at=long_ago)
    attempt = OfferAttempt(order_id=offered.id, technician_id=tech.id, status="pending", sent_at=long_ago,
                           expires_at=long_ago)
    message = Message(key="test:1", direction="outbound", channel="sms", to_phone=tech.phone, body="x",
                      status="queued", created_at=long_ago)
    case = Case(code="20000001", call_sid="CA" + "1" * 32, caller="+8613904761234", status="voicemail",
                created_at=long_ago, alert_round=1, next_alert_at=long_ago)
    police = Case(code="20000002", call_sid="CA" + "2" * 32, caller="+8613904761234", status="answered",
                  created_at=long_ago, police_required=True, police_alert_round=1, police_next_alert_at=long_ago)
    # Held by the SMS budget (off in tests: due at once), and sent through Alibaba an hour ago with no receipt.
    held = Message(key="test:2", direction="outbound", channel="sms", to_phone=tech.phone, body="x",
                   status="held", created_at=long_ago)
    unreceipted = Message(key="test:3", direction="outbound", channel="sms", to_phone=tech.phone, body="x",
                          status="sent", provider_sid="123456789012^0", created_at=long_ago,
                          sent_at=utcnow() - timedelta(hours=1))
    db.add_all([attempt, message, case, police, visit, held, unreceipted])
    db.flush()
    task = CaseTask(case_id=case.id, kind="home_visit", due_at=long_ago, next_overdue_at=long_ago)
    db.add(task)
    db.commit()
    delay = timedelta(seconds=settings.satisfaction_delay_seconds)
    return {deferred.SEND: deferred.send(message.id),
            deferred.EXPIRE_OFFER: deferred.expire_offer(attempt.id, long_ago),
            deferred.OFFER: deferred.offer(pending.id),
            deferred.ALERT_ROUND: deferred.alert_round(case.id, 2, long_ago),
            deferred.POLICE_ALERT: deferred.police_alert(police.id, 2, long_ago),
            deferred.ARRIVAL_CHECK: deferred.arrival_check(accepted.id, long_ago),
            deferred.SATISFACTION_CALL: deferred.satisfaction_call(completed.id, completed.completed_at + delay),
            deferred.TASK_OVERDUE: deferred.task_overdue(task.id, 1, long_ago),
            deferred.VERIFY_ARRIVAL: deferred.verify_arrival(visit.id, 2, long_ago),
            deferred.BUDGET_FLUSH: deferred.budget_flush(held.id),
            deferred.RECEIPT_CHECK: deferred.receipt_check(unreceipted.id)}


def _runtime(app, settings) -> Runtime:
    hotline = app.extensions["hotline"]
    return Runtime(settings=settings, session_factory=hotline.session_factory, provider=None, queue=hotline.queue)


def test_overdue_work_holds_each_kinds_overdue_row_once(db, settings, overdue_rows):
    due = overdue_work(db, utcnow(), settings)
    assert sorted(due, key=lambda d: d.kind) == sorted(overdue_rows.values(), key=lambda d: d.kind)


def test_reconcile_enqueues_each_kinds_overdue_work_and_logs_every_kind_with_its_count(
        app, settings, overdue_rows, caplog):
    with caplog.at_level(logging.INFO, logger="dispatch.reconcile"):
        done = reconcile(_runtime(app, settings))
    assert sorted(d.kind for d in done) == ALL_KINDS
    assert sorted(kind_of(j) for j in _waiting(app)) == ALL_KINDS
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("reconcile:")]
    assert all(f"1 {entry.label}" in line for entry in KINDS.values())


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_reconcile_skips_the_work_whose_job_redis_still_holds_by_its_kind_key(app, settings, overdue_rows, kind):
    held = overdue_rows[kind]
    assert schedule(_queue(app), [held])
    done = reconcile(_runtime(app, settings))
    assert held not in done and len(done) == len(ALL_KINDS) - 1


def test_the_log_summary_names_every_kind_even_with_none_of_it():
    line = summary([deferred.send(1), deferred.send(2)])
    assert line.startswith("2 message(s) to send") and line.count(", ") == len(KINDS) - 1


# --- jobs in Redis from before kind keys, or whose function moved ---------------------------------------


# Only the kinds that release had: a kind added since was enqueued with its kind key from the start.
@pytest.mark.parametrize("kind", sorted(set(LEGACY_FUNC_NAMES.values())))
def test_a_job_the_previous_release_enqueued_under_its_function_name_is_recognised(app, kind):
    job = _queue(app).enqueue(f"dispatch.jobs.{KINDS[kind].job.__name__}", *_record(kind).args)  # no kind key
    assert KIND_META not in job.meta
    assert kind_of(job) == kind
    assert not_in_redis([_record(kind)], {(kind_of(job), tuple(job.args))}) == []


def test_a_job_whose_function_moved_keeps_its_kind(app, settings, overdue_rows):
    held = overdue_rows[deferred.SEND]
    # Enqueued by name only: the function need not exist here, as after a release moved it.
    job = _queue(app).enqueue("dispatch.sending.deliver_job", *held.args, meta={KIND_META: deferred.SEND})
    assert kind_of(job) == deferred.SEND
    assert held not in reconcile(_runtime(app, settings))


def test_a_job_of_no_known_kind_holds_no_work(app, settings, overdue_rows):
    _queue(app).enqueue("somewhere.else.send_message_job", *overdue_rows[deferred.SEND].args)
    assert overdue_rows[deferred.SEND] in reconcile(_runtime(app, settings))
