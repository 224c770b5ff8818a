"""RQ jobs and how they are enqueued. Jobs take IDs, never objects, and are idempotent (safe to run twice)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from rq import Queue, Retry

from models import Message, utcnow

from .case_alerts import alert_round
from .offers import FollowUp, expire_offer, offer_failed, offer_order
from .sla import check_arrival
from .outbox import claim, deliver, release, send_after_commit, send_claimed
from .providers import ProviderError
from .runtime import current
from .satisfaction import place_call

log = logging.getLogger(__name__)
# Transient provider faults (429, 5xx, timeouts): back off, but give up well inside the 15-minute promise.
SEND_RETRY = Retry(max=5, interval=[5, 15, 30, 60, 120])


def _step(decide, *ids) -> None:
    """Run one decision in a transaction, commit it, then send its messages and queue the rest of its work."""
    rt = current()
    with rt.job_session() as session:
        send_after_commit(session)
        follow = decide(session, *ids, rt.settings, utcnow())
        claimed = _commit_claiming(session, follow)
        _hand_off(rt, session, follow, claimed)


def _commit_claiming(session, follow: FollowUp) -> list[Message]:
    """Commit the decision with its messages already claimed by this job, which sends them next."""
    # The claim commits with the rows it claims (never before them), so one worker still sends each; and a
    # job pays one commit for its decision and its claims instead of a claim transaction per message. A
    # worker that dies before sending leaves rows `sending`, which the reconciler takes over after 30 s.
    claimed = claim(session, follow.messages)
    session.commit()
    return claimed


# Sending in the job that committed the rows, not in one job per message, saves a queue round trip per
# message, and an order's offer no longer waits behind every other order's offer job. The queue keeps what
# it is good at: timeouts, retries with back-off, and the sends this job did not get to.
def _hand_off(rt, session, follow: FollowUp, claimed: list[Message]) -> None:
    """Queue the committed follow-up work, then send (in `session`) the messages this job claimed with it."""
    # Messages not claimed are sent already or being sent by another worker: nothing to do for them.
    follow.messages = []
    schedule(rt.queue, follow)  # first: a send that hangs or dies must not cost an offer its timeout
    for i, message in enumerate(claimed):
        try:
            message = send_claimed(session, message, rt.provider, rt.settings.sender)
            after, more = _after_send(rt, session, message)
        except ProviderError:
            # Transient (429, 5xx, timeout): back off through the queue, and do not make the other
            # messages wait on a troubled provider here; other workers take them at once.
            _retry_later(rt.queue, message.id)
            rest = claimed[i + 1:]
            if rest:
                release(session, rest)
                schedule(rt.queue, FollowUp(messages=[m.id for m in rest]))
            return
        _hand_off(rt, session, after, more)


def _after_send(rt, session, message: Message | None) -> tuple[FollowUp, list[Message]]:
    """An offer that cannot be delivered moves on at once (committed, its new messages claimed)."""
    if message is not None and message.status == "failed" and (message.key or "").startswith("offer:"):
        # The technician cannot be reached (opted out, invalid number): do not wait for a timeout.
        follow = offer_failed(session, int(message.key.split(":")[1]), rt.settings, utcnow())
        return follow, _commit_claiming(session, follow)
    return FollowUp(), []


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
        follow, claimed = _after_send(rt, session, deliver(session, message_id, rt.provider, rt.settings.sender))
        _hand_off(rt, session, follow, claimed)


def alert_round_job(case_id: int, round_no: int) -> None:
    """Send a child-line case's next alert round. Idempotent: a sent round or an acknowledged case is left alone."""
    _step(alert_round, case_id, round_no)


def arrival_check_job(order_id: int) -> None:
    """At an accepted order's arrival deadline: remind and alert if nobody arrived. Idempotent."""
    _step(check_arrival, order_id)


def satisfaction_call_job(order_id: int) -> None:
    """Queue a completed order's one satisfaction call. Idempotent: an order already called is left alone."""
    _step(place_call, order_id)


def enqueue_offer(queue: Queue, order_id: int) -> bool:
    """Queue the first offer of a committed order; False (logged) when Redis is unreachable."""
    return _safely(lambda: queue.enqueue(offer_order_job, order_id, retry=Retry(max=3, interval=[5, 30, 60])))


def schedule(queue: Queue, follow: FollowUp) -> bool:
    """Hand committed follow-up work to the queue: sends now, timeouts at their deadline."""
    def _go():
        for message_id in follow.messages:
            queue.enqueue(send_message_job, message_id, retry=SEND_RETRY)
        now = utcnow()
        for attempt_id, at in follow.timeouts:
            _at(queue, now, at, expire_offer_job, attempt_id)
        for order_id in follow.reoffer:
            queue.enqueue(offer_order_job, order_id)
        for case_id, round_no, at in follow.alert_rounds:
            _at(queue, now, at, alert_round_job, case_id, round_no)
        for order_id, at in follow.sla_checks:
            _at(queue, now, at, arrival_check_job, order_id)
        for order_id, at in follow.satisfaction_calls:
            _at(queue, now, at, satisfaction_call_job, order_id)
    return _safely(_go)


def _retry_later(queue: Queue, message_id: int) -> bool:
    """Queue the retries of a send that failed in its first, inline attempt: the rest of SEND_RETRY's schedule."""
    first, rest = SEND_RETRY.intervals[0], SEND_RETRY.intervals[1:]
    return _safely(lambda: queue.enqueue_in(timedelta(seconds=first), send_message_job, message_id,
                                            retry=Retry(max=SEND_RETRY.max - 1, interval=rest)))


def _at(queue: Queue, now: datetime, at: datetime, job, *args) -> None:
    """Run `job` at `at`: now if already due (no scheduler round-trip), else through RQ's scheduler."""
    if _aware(at) <= now:
        queue.enqueue(job, *args)
    else:
        queue.enqueue_at(_aware(at), job, *args)


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
