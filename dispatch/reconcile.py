"""Rebuild the queue from the database: anything overdue that Redis lost is enqueued again.

The database is the record of truth; this pass makes a lost enqueue (Redis down at commit, a crash
between commit and enqueue) a delay instead of a loss. Every job it enqueues is idempotent.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from rq.job import Job
from sqlalchemy import select

from models import UNACKNOWLEDGED, Case, Message, OfferAttempt, Order, utcnow

from .jobs import alert_round_job, expire_offer_job, offer_order_job, schedule, send_message_job
from .offers import FollowUp
from .runtime import Runtime

log = logging.getLogger(__name__)


def overdue_work(session, now, grace_seconds: int = 0) -> FollowUp:
    """What the database says should be in the queue by now."""
    cutoff = now - timedelta(seconds=grace_seconds)
    follow = FollowUp()
    follow.reoffer = list(session.scalars(select(Order.id).where(Order.status == "pending",
                                                                 Order.created_at <= cutoff)))
    follow.timeouts = [(a_id, at) for a_id, at in session.execute(
        select(OfferAttempt.id, OfferAttempt.expires_at)
        .where(OfferAttempt.status == "pending", OfferAttempt.expires_at <= now))]
    follow.messages = list(session.scalars(select(Message.id).where(
        Message.direction == "outbound", Message.status == "queued", Message.created_at <= cutoff)))
    follow.alert_rounds = [(c_id, done + 1, at) for c_id, done, at in session.execute(
        select(Case.id, Case.alert_round, Case.next_alert_at)
        .where(Case.status.in_(UNACKNOWLEDGED), Case.next_alert_at <= now))]
    return follow


def _queued_in_redis(queue) -> set[tuple[str, tuple]]:
    """(function, args) of every job Redis still holds for the queue: waiting, scheduled (retries too) or running."""
    ids = (queue.get_job_ids() + queue.scheduled_job_registry.get_job_ids()
           + queue.started_job_registry.get_job_ids())
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
    )


def reconcile(rt: Runtime, grace_seconds: int = 0) -> FollowUp:
    """Enqueue everything overdue that is not already in Redis; returns what it enqueued."""
    with rt.session_factory() as session:
        follow = overdue_work(session, utcnow(), grace_seconds)
    follow = not_in_redis(follow, _queued_in_redis(rt.queue))
    if follow.reoffer or follow.timeouts or follow.messages or follow.alert_rounds:
        log.info("reconcile: %d order(s) to offer, %d offer(s) to time out, %d message(s) to send, "
                 "%d case alert round(s)", len(follow.reoffer), len(follow.timeouts), len(follow.messages),
                 len(follow.alert_rounds))
        schedule(rt.queue, follow)
    return follow


