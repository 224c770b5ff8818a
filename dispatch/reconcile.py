"""Rebuild the queue from the database: anything overdue that Redis lost is enqueued again.

The database is the record of truth; this pass makes a lost enqueue (Redis down at commit, a crash
between commit and enqueue) a delay instead of a loss. Every job it enqueues is idempotent.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from models import Message, OfferAttempt, Order, utcnow

from .jobs import schedule
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
    return follow


def reconcile(rt: Runtime, grace_seconds: int = 0) -> FollowUp:
    """Enqueue everything overdue; returns what it found."""
    with rt.session_factory() as session:
        follow = overdue_work(session, utcnow(), grace_seconds)
    if follow.reoffer or follow.timeouts or follow.messages:
        log.info("reconcile: %d order(s) to offer, %d offer(s) to time out, %d message(s) to send",
                 len(follow.reoffer), len(follow.timeouts), len(follow.messages))
        schedule(rt.queue, follow)
    return follow


