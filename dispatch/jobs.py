"""RQ jobs, the registry of their kinds (KINDS), and how deferred work is enqueued.

Jobs take IDs, never objects, and are idempotent (safe to run twice).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from redis.client import Pipeline
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy.orm import Session

from models import Message, utcnow

from . import deferred
from .arrival_calls import overdue_verifications, verify_arrival
from .budget import HELD, SKIPPED_ERROR, parse_budget
from .call_budget import call_windows
from .case_alerts import alert_round, overdue_alert_rounds
from .deferred import Work
from .held_calls import call_flush_when_allowed, flush_held_calls, overdue_call_flushes
from .held_sms import flush_held, flush_when_allowed, overdue_flushes
from .offers import expire_offer, offer_failed, offer_order, overdue_offers, overdue_timeouts
from .outbox import claim, deliver, overdue_sends, release, send_after_commit, send_claimed
from .police_alerts import overdue_police_alerts, police_alert
from .providers import ProviderError
from .receipt_check import check_receipt, overdue_receipts
from .runtime import current
from .satisfaction import overdue_calls, place_call
from .settings import DispatchSettings
from .sla import check_arrival, overdue_arrival_checks
from .task_overdue import overdue_round, overdue_task_rounds

log = logging.getLogger(__name__)
# Transient provider faults (429, 5xx, timeouts): back off, but give up well inside the 15-minute promise.
SEND_RETRY = Retry(max=5, interval=[5, 15, 30, 60, 120])
OFFER_RETRY = Retry(max=3, interval=[5, 30, 60])
# The job's meta field that names its kind: the reconciler matches jobs by it, not by the function's path.
KIND_META = "kind"


def _step(decide, *ids) -> None:
    """Run one decision in a transaction, commit it, then send its messages and queue the rest of its work."""
    rt = current()
    with rt.job_session() as session:
        send_after_commit(session)
        follow = decide(session, *ids, rt.settings, utcnow())
        claimed = _commit_claiming(session, follow)
        _hand_off(rt, session, follow, claimed)


def _commit_claiming(session, follow: Work) -> list[Message]:
    """Commit the decision with its messages already claimed by this job, which sends them next."""
    # The claim commits with the rows it claims (never before them), so one worker still sends each; and a
    # job pays one commit for its decision and its claims instead of a claim transaction per message. A
    # worker that dies before sending leaves rows `sending`, which the reconciler takes over after 30 s.
    claimed = claim(session, deferred.message_ids(follow))
    session.commit()
    return claimed


# Sending in the job that committed the rows, not in one job per message, saves a queue round trip per
# message, and an order's offer no longer waits behind every other order's offer job. The queue keeps what
# it is good at: timeouts, retries with back-off, and the sends this job did not get to.
def _hand_off(rt, session, follow: Work, claimed: list[Message]) -> None:
    """Queue the committed follow-up work, then send (in `session`) the messages this job claimed with it."""
    # Messages not claimed are sent already or being sent by another worker: nothing to do for them.
    # Scheduled first: a send that hangs or dies must not cost an offer its timeout.
    schedule(rt.queue, [item for item in follow if item.kind != deferred.SEND])
    for i, message in enumerate(claimed):
        try:
            message = send_claimed(session, message, rt.provider, rt.settings.sender,
                                   parse_budget(rt.settings.sms_budget), call_windows(rt.settings))
            after, more = _after_send(rt, session, message)
        except ProviderError:
            # Transient (429, 5xx, timeout): back off through the queue, and do not make the other
            # messages wait on a troubled provider here; other workers take them at once.
            _retry_later(rt.queue, message.id)
            rest = claimed[i + 1:]
            if rest:
                release(session, rest)
                schedule(rt.queue, deferred.sends(m.id for m in rest))
            return
        _hand_off(rt, session, after, more)


def _after_send(rt, session, message: Message | None) -> tuple[Work, list[Message]]:
    """An offer that cannot be delivered moves on at once (committed, its new messages claimed); an SMS the
    budget held (or a call the call budget held) is sent when the budget allows (scheduled)."""
    if message is not None and message.status == "failed" and (message.key or "").startswith("offer:"):
        # The technician cannot be reached (opted out, invalid number, over the SMS budget): do not wait.
        follow = offer_failed(session, int(cast(str, message.key).split(":")[1]), rt.settings, utcnow(),
                              over_budget=message.error == SKIPPED_ERROR)
        return follow, _commit_claiming(session, follow)
    if message is not None and message.status == HELD:
        when = call_flush_when_allowed if message.channel == "call" else flush_when_allowed
        follow = when(session, message, rt.settings, utcnow())
        session.commit()  # only the read of the budget
        return follow, []
    return [], []


def offer_order_job(order_id: int) -> None:
    """Offer an order to the next candidate(s) and send the offers. Idempotent: a re-run sends only what is unsent."""
    _step(offer_order, order_id)


def expire_offer_job(attempt_id: int) -> None:
    """Time out an unanswered offer and move the order on. Idempotent: an answered offer is left alone."""
    _step(expire_offer, attempt_id)


def send_message_job(message_id: int) -> None:
    """Send one outbox row (a retry, a webhook's reply, a lost send). Idempotent: a row with a SID is never resent."""
    rt = current()
    with rt.job_session() as session:
        send_after_commit(session)
        sent = deliver(session, message_id, rt.provider, rt.settings.sender, parse_budget(rt.settings.sms_budget),
                       call_windows(rt.settings))
        follow, claimed = _after_send(rt, session, sent)
        _hand_off(rt, session, follow, claimed)


def alert_round_job(case_id: int, round_no: int) -> None:
    """Send a child-line case's next alert round. Idempotent: a sent round or an acknowledged case is left alone."""
    _step(alert_round, case_id, round_no)


def police_alert_job(case_id: int, round_no: int) -> None:
    """Send a case's next police-report alert round. Idempotent: a sent round or a recorded report is left alone."""
    _step(police_alert, case_id, round_no)


def arrival_check_job(order_id: int) -> None:
    """At an accepted order's arrival deadline: remind and alert if nobody arrived. Idempotent."""
    _step(check_arrival, order_id)


def satisfaction_call_job(order_id: int) -> None:
    """Queue a completed order's one satisfaction call. Idempotent: an order already called is left alone."""
    _step(place_call, order_id)


def task_overdue_job(task_id: int, round_no: int) -> None:
    """Send a casework task's overdue alert round. Idempotent: a sent round or a finished task is left alone."""
    _step(overdue_round, task_id, round_no)


def verify_arrival_job(visit_id: int, attempt: int) -> None:
    """Place a visit's arrival call (try `attempt`), or leave it unverified. Idempotent: an answered visit or a
    try already placed is left alone."""
    _step(verify_arrival, visit_id, attempt)


def budget_flush_job(message_id: int) -> None:
    """Send what the SMS (or call) budget held for one number (merged alerts first). Idempotent: nothing held,
    nothing sent."""
    _step(flush_budget, message_id)


def flush_budget(session: Session, message_id: int, settings: DispatchSettings, now: datetime) -> Work:
    """The budget flush of row `message_id`'s number: its held calls if it is a call, else its held SMS."""
    row = session.get(Message, message_id)
    flush = flush_held_calls if row is not None and row.channel == "call" else flush_held
    return flush(session, message_id, settings, now)


def overdue_budget_flushes(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings,
                           ) -> Work:
    """Reconcile: every number with held SMS, and every number with held calls, whose budget allows one now."""
    return overdue_flushes(session, now, cutoff, settings) + overdue_call_flushes(session, now, cutoff, settings)


def receipt_check_job(message_id: int) -> None:
    """Look up an unreceipted SMS at its provider and settle its row. Idempotent: a settled row is left alone."""
    rt = current()
    with rt.job_session() as session:
        send_after_commit(session)
        follow = check_receipt(session, message_id, rt.provider, rt.settings, utcnow())
        claimed = _commit_claiming(session, follow)
        _hand_off(rt, session, follow, claimed)


@dataclass(frozen=True)
class JobKind:
    """A kind of deferred work: the RQ job that does it, how the queue retries it, and the query that finds
    it overdue in the database (for the reconciler), with the words its count takes in the reconcile log."""

    job: Callable[..., None]
    retry: Retry | None
    overdue: Callable[[Session, datetime, datetime, Any], Work]  # (session, now, cutoff, settings)
    label: str


# The one registry of job kinds. Its order is the order schedule() enqueues in: a decision's sends first.
KINDS: dict[str, JobKind] = {
    deferred.SEND: JobKind(send_message_job, SEND_RETRY, overdue_sends, "message(s) to send"),
    deferred.EXPIRE_OFFER: JobKind(expire_offer_job, None, overdue_timeouts, "offer(s) to time out"),
    deferred.OFFER: JobKind(offer_order_job, OFFER_RETRY, overdue_offers, "order(s) to offer"),
    deferred.ALERT_ROUND: JobKind(alert_round_job, None, overdue_alert_rounds, "case alert round(s)"),
    deferred.POLICE_ALERT: JobKind(police_alert_job, None, overdue_police_alerts, "police-report alert round(s)"),
    deferred.ARRIVAL_CHECK: JobKind(arrival_check_job, None, overdue_arrival_checks, "SLA check(s)"),
    deferred.SATISFACTION_CALL: JobKind(satisfaction_call_job, None, overdue_calls, "satisfaction call(s)"),
    deferred.TASK_OVERDUE: JobKind(task_overdue_job, None, overdue_task_rounds, "task overdue round(s)"),
    deferred.VERIFY_ARRIVAL: JobKind(verify_arrival_job, None, overdue_verifications, "arrival call(s)"),
    deferred.BUDGET_FLUSH: JobKind(budget_flush_job, None, overdue_budget_flushes,
                                   "number(s) with held SMS or calls to send"),
    deferred.RECEIPT_CHECK: JobKind(receipt_check_job, None, overdue_receipts, "SMS receipt(s) to look up"),
}
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}


def enqueue_offer(queue: Queue, order_id: int) -> bool:
    """Queue the first offer of a committed order; False (logged) when Redis is unreachable."""
    return schedule(queue, [deferred.offer(order_id)])


def schedule(queue: Queue, work: Work) -> bool:
    """Hand committed deferred work to the queue: each record's job now, or at its time if that is later."""
    def _go():
        now = utcnow()
        # One MULTI/EXEC for the lot: RQ alone sends each job as two round trips (the queue's name, then the
        # job), and this runs inside the webhook that commits an order. All of it is queued, or none (logged:
        # the reconcile pass finds the work in the database).
        pipe = queue.connection.pipeline()
        pipe.multi()  # explicit, before RQ's commands: otherwise RQ calls multi() itself after the first job's
        for item in sorted(work, key=lambda item: _RANK[item.kind]):
            kind = KINDS[item.kind]
            _at(queue, now, item.at, kind.job, item.args, kind.retry, item.kind, pipe)
        pipe.execute()
    return _safely(_go)


def _retry_later(queue: Queue, message_id: int) -> bool:
    """Queue the retries of a send that failed in its first, inline attempt: the rest of SEND_RETRY's schedule."""
    first, rest = SEND_RETRY.intervals[0], SEND_RETRY.intervals[1:]
    return _safely(lambda: queue.enqueue_in(timedelta(seconds=first), send_message_job, message_id,
                                            retry=Retry(max=SEND_RETRY.max - 1, interval=rest),
                                            meta={KIND_META: deferred.SEND}))


def _at(queue: Queue, now: datetime, at: datetime | None, job, args: tuple, retry: Retry | None, kind: str,
        pipe: Pipeline) -> None:
    """Run `job` at `at`: now if None or already due (no scheduler round-trip), else through RQ's scheduler;
    queued on `pipe`, which the caller executes."""
    meta = {KIND_META: kind}
    if at is None or _aware(at) <= now:
        queue.enqueue(job, *args, retry=retry, meta=meta, pipeline=pipe)
    else:
        queue.enqueue_at(_aware(at), job, *args, retry=retry, meta=meta, pipeline=pipe)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


def _safely(fn) -> bool:
    # The database is the record of truth: a Redis outage must not fail the caller's request.
    try:
        fn()
        return True
    except RedisError as exc:
        log.error("could not enqueue (Redis unavailable: %s); the worker's reconcile pass will pick it up",
                  type(exc).__name__)
        return False
