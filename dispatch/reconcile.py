"""Rebuild the queue from the database: anything overdue that Redis lost is enqueued again.

The database is the record of truth; this pass makes a lost enqueue (Redis down at commit, a crash
between commit and enqueue) a delay instead of a loss. Every job it enqueues is idempotent.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

from rq.job import Job
from sqlalchemy import and_, or_, select

from models import (CASE_UNACKNOWLEDGED, Case, Message, OfferAttempt, OfferStatus, Order, OrderStatus, purge_receipts,
                    utcnow)

from .jobs import (alert_round_job, arrival_check_job, expire_offer_job, offer_order_job, satisfaction_call_job,
                   schedule, send_message_job)
from .offers import FollowUp
from .outbox import CLAIM_SECONDS
from .runtime import Runtime
from .satisfaction import LOOKBACK, owed
from .spool import replay

log = logging.getLogger(__name__)
# Every worker runs this pass this often, so no lost job waits longer (the bound the README promises).
RECONCILE_INTERVAL_SECONDS = 20
# A scheduled job this far past due has no live scheduler to move it.
OVERDUE_GRACE_SECONDS = 10
# Our jobs take seconds (provider timeout 10 s); a job "running" for longer lost its worker.
RUNNING_GRACE_SECONDS = 30


def overdue_work(session, now, settings, grace_seconds: int = 0) -> FollowUp:
    """What the database says should be in the queue by now."""
    cutoff = now - timedelta(seconds=grace_seconds)
    follow = FollowUp()
    follow.reoffer = list(session.scalars(select(Order.id).where(Order.status == OrderStatus.PENDING,
                                                                 Order.created_at <= cutoff)))
    follow.timeouts = [(a_id, at) for a_id, at in session.execute(
        select(OfferAttempt.id, OfferAttempt.expires_at)
        .where(OfferAttempt.status == OfferStatus.PENDING, OfferAttempt.expires_at <= now))]
    abandoned = now - timedelta(seconds=CLAIM_SECONDS)
    follow.messages = list(session.scalars(select(Message.id).where(
        Message.direction == "outbound",
        or_(and_(Message.status == "queued", Message.created_at <= cutoff),
            and_(Message.status == "sending", Message.claimed_at < abandoned)))))
    follow.sla_checks = [(o_id, at) for o_id, at in session.execute(
        select(Order.id, Order.accepted_at).where(Order.status == OrderStatus.ACCEPTED, Order.sla_breached.is_(False),
                                                  Order.accepted_at.is_not(None)))
        if at + timedelta(minutes=settings.sla_arrival_minutes) <= now]
    follow.alert_rounds = [(c_id, done + 1, at) for c_id, done, at in session.execute(
        select(Case.id, Case.alert_round, Case.next_alert_at)
        .where(Case.status.in_(CASE_UNACKNOWLEDGED), Case.next_alert_at <= now))]
    # Created within LOOKBACK: a range on the (status, created_at) index, never a scan of every completed order.
    delay = timedelta(seconds=settings.satisfaction_delay_seconds)
    follow.satisfaction_calls = [(o_id, at + delay) for o_id, at in session.execute(
        select(Order.id, Order.completed_at).where(owed(), Order.created_at >= now - LOOKBACK,
                                                   Order.completed_at <= cutoff - delay))]
    return follow


def _queued_in_redis(queue, now: datetime) -> set[tuple[str, tuple]]:
    """(function, args) of the jobs Redis will still run by itself: waiting, scheduled and not yet overdue
    (a dead scheduler moves nothing), or started recently (a SIGKILLed worker's job is never finished)."""
    scheduled = queue.scheduled_job_registry
    ids = queue.get_job_ids()
    not_overdue = (now - timedelta(seconds=OVERDUE_GRACE_SECONDS)).timestamp()
    ids += [i.decode() if isinstance(i, bytes) else i
            for i in queue.connection.zrangebyscore(scheduled.key, not_overdue, "+inf")]
    started = [job for job in Job.fetch_many(queue.started_job_registry.get_job_ids(), connection=queue.connection,
                                             serializer=queue.serializer)
               if job is not None and job.started_at is not None
               and _aware(job.started_at) > now - timedelta(seconds=RUNNING_GRACE_SECONDS)]
    ids += [job.id for job in started]
    held = set()
    for job in Job.fetch_many(ids, connection=queue.connection, serializer=queue.serializer):
        try:
            held.add((job.func_name, tuple(job.args)))
        except Exception:  # noqa: BLE001 - an unreadable job (gone, or from an older release) holds nothing
            continue
    return held


def _name(fn) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def not_in_redis(follow: FollowUp, held: set[tuple[str, tuple]]) -> FollowUp:
    """Only the work Redis lost: a job it still holds must not run twice (a send retry keeps its back-off)."""
    return FollowUp(
        messages=[m for m in follow.messages if (_name(send_message_job), (m,)) not in held],
        timeouts=[(a, at) for a, at in follow.timeouts if (_name(expire_offer_job), (a,)) not in held],
        reoffer=[o for o in follow.reoffer if (_name(offer_order_job), (o,)) not in held],
        alert_rounds=[(c, r, at) for c, r, at in follow.alert_rounds if (_name(alert_round_job), (c, r)) not in held],
        sla_checks=[(o, at) for o, at in follow.sla_checks if (_name(arrival_check_job), (o,)) not in held],
        satisfaction_calls=[(o, at) for o, at in follow.satisfaction_calls
                            if (_name(satisfaction_call_job), (o,)) not in held],
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def reconcile(rt: Runtime, grace_seconds: int = 0) -> FollowUp:
    """Enqueue everything overdue that Redis will not run by itself; returns what it enqueued."""
    now = utcnow()
    with rt.session_factory() as session:
        follow = overdue_work(session, now, rt.settings, grace_seconds)
    follow = not_in_redis(follow, _queued_in_redis(rt.queue, now))
    if (follow.reoffer or follow.timeouts or follow.messages or follow.alert_rounds or follow.sla_checks
            or follow.satisfaction_calls):
        log.info("reconcile: %d order(s) to offer, %d offer(s) to time out, %d message(s) to send, "
                 "%d case alert round(s), %d satisfaction call(s)", len(follow.reoffer), len(follow.timeouts),
                 len(follow.messages), len(follow.alert_rounds), len(follow.satisfaction_calls))
        schedule(rt.queue, follow)
    return follow




def housekeeping(rt: Runtime) -> None:
    """Replay webhooks spooled while the database was down; purge old webhook receipts."""
    replay(rt)
    with rt.session_factory() as session:
        purge_receipts(session, utcnow())
        session.commit()


def reconcile_forever(rt: Runtime, stop: threading.Event, interval: float | None = None) -> None:
    """Reconcile every `interval` seconds (default RECONCILE_INTERVAL_SECONDS, read when the loop starts)
    until `stop` is set (run in a daemon thread of each worker)."""
    if interval is None:
        interval = RECONCILE_INTERVAL_SECONDS
    while not stop.wait(interval):
        # Separately: a replay or purge that fails must not keep the reconcile pass from running.
        for step in (housekeeping, lambda rt: reconcile(rt, grace_seconds=OVERDUE_GRACE_SECONDS)):
            try:
                step(rt)
            except Exception as exc:  # noqa: BLE001 - Redis or the database down: try again next round, never die
                log.error("reconcile pass failed (%s); retrying in %ss", type(exc).__name__, interval)
