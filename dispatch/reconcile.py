"""Rebuild the queue from the database: anything overdue that Redis lost is enqueued again.

The database is the record of truth; this pass makes a lost enqueue (Redis down at commit, a crash
between commit and enqueue) a delay instead of a loss. Every job it enqueues is idempotent.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import cast

from rq.job import Job

from models import purge_receipts, utcnow

from .deferred import ALERT_ROUND, ARRIVAL_CHECK, EXPIRE_OFFER, OFFER, SATISFACTION_CALL, SEND, Work
from .jobs import KIND_META, KINDS, schedule
from .runtime import Runtime
from .settings import DispatchSettings
from .spool import replay

log = logging.getLogger(__name__)
# Every worker runs this pass this often, so no lost job waits longer (the bound the README promises).
RECONCILE_INTERVAL_SECONDS = 20
# A scheduled job this far past due has no live scheduler to move it.
OVERDUE_GRACE_SECONDS = 10
# Our jobs take seconds (provider timeout 10 s); a job "running" for longer lost its worker.
RUNNING_GRACE_SECONDS = 30


# The function names the release before kind keys enqueued its jobs under (it stored no kind): the jobs it
# left in Redis at deploy time are recognised by these, so they are neither orphaned nor run twice.
LEGACY_FUNC_NAMES = {
    "dispatch.jobs.send_message_job": SEND,
    "dispatch.jobs.expire_offer_job": EXPIRE_OFFER,
    "dispatch.jobs.offer_order_job": OFFER,
    "dispatch.jobs.alert_round_job": ALERT_ROUND,
    "dispatch.jobs.arrival_check_job": ARRIVAL_CHECK,
    "dispatch.jobs.satisfaction_call_job": SATISFACTION_CALL,
}


def overdue_work(session, now, settings: DispatchSettings, grace_seconds: int = 0) -> Work:
    """What the database says should be in the queue by now: every job kind's overdue query, in KINDS order."""
    cutoff = now - timedelta(seconds=grace_seconds)
    return [item for kind in KINDS.values() for item in kind.overdue(session, now, cutoff, settings)]


def kind_of(job: Job) -> str | None:
    """A queued job's kind key: from its meta, or (enqueued before kind keys) from its function's name."""
    return job.meta.get(KIND_META) or LEGACY_FUNC_NAMES.get(cast(str, job.func_name))


def _queued_in_redis(queue, now: datetime) -> set[tuple[str | None, tuple]]:
    """(kind, args) of the jobs Redis will still run by itself: waiting, scheduled and not yet overdue
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
    # A gone job comes back None: its attribute error is caught below, as for any unreadable job.
    for job in cast(list[Job], Job.fetch_many(ids, connection=queue.connection, serializer=queue.serializer)):
        try:
            held.add((kind_of(job), tuple(job.args)))
        except Exception:  # noqa: BLE001 - an unreadable job (gone, or from an older release) holds nothing
            continue
    return held


def not_in_redis(work: Work, held: set[tuple[str | None, tuple]]) -> Work:
    """Only the work Redis lost: a job it still holds must not run twice (a send retry keeps its back-off)."""
    return [item for item in work if (item.kind, item.args) not in held]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def reconcile(rt: Runtime, grace_seconds: int = 0) -> Work:
    """Enqueue everything overdue that Redis will not run by itself; returns what it enqueued."""
    now = utcnow()
    with rt.session_factory() as session:
        work = overdue_work(session, now, rt.settings, grace_seconds)
    work = not_in_redis(work, _queued_in_redis(rt.queue, now))
    if work:
        log.info("reconcile: %s", summary(work))
        schedule(rt.queue, work)
    return work


def summary(work: Work) -> str:
    """Every kind of KINDS with its count in `work` ("0 order(s) to offer, 2 message(s) to send, ...")."""
    counts = Counter(item.kind for item in work)
    return ", ".join(f"{counts[key]} {kind.label}" for key, kind in KINDS.items())


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
