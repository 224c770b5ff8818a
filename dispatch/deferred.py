"""Deferred work as data: what a transaction leaves for the queue once it committed, one small record per job.

A decision returns a list of `Deferred` records (a `Work`); the caller commits, then hands the list to
`jobs.schedule`, which looks each record's kind up in `jobs.KINDS`. Lists merge with `+` and `+=`.
Adding a timed job is a kind key and a builder here, and one entry in `jobs.KINDS`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# The kind keys: stable names of the jobs, stored with every job in Redis (never the function's import path).
SEND = "send"
EXPIRE_OFFER = "expire_offer"
OFFER = "offer"
ALERT_ROUND = "alert_round"
ARRIVAL_CHECK = "arrival_check"
SATISFACTION_CALL = "satisfaction_call"
TASK_OVERDUE = "task_overdue"
POLICE_ALERT = "police_alert"
VERIFY_ARRIVAL = "verify_arrival"
BUDGET_FLUSH = "budget_flush"
RECEIPT_CHECK = "receipt_check"


@dataclass(frozen=True, slots=True)
class Deferred:
    """One job to queue after the commit: its kind (a key of jobs.KINDS), the IDs it takes, and when (None: now)."""

    kind: str
    args: tuple
    at: datetime | None = None


Work = list[Deferred]


def send(message_id: int) -> Deferred:
    """Send one outbox row now."""
    return Deferred(SEND, (message_id,))


def sends(message_ids: Iterable[int]) -> Work:
    """Send these outbox rows now."""
    return [Deferred(SEND, (message_id,)) for message_id in message_ids]


def offer(order_id: int) -> Deferred:
    """Offer an order to its next candidate(s) now."""
    return Deferred(OFFER, (order_id,))


def expire_offer(attempt_id: int, at: datetime) -> Deferred:
    """Time out an offer at its deadline."""
    return Deferred(EXPIRE_OFFER, (attempt_id,), at)


def alert_round(case_id: int, round_no: int, at: datetime) -> Deferred:
    """Send a child-line case's alert round `round_no` at `at`."""
    return Deferred(ALERT_ROUND, (case_id, round_no), at)


def police_alert(case_id: int, round_no: int, at: datetime) -> Deferred:
    """Send round `round_no` of a case's police-report alerts (to the supervisors) at `at`."""
    return Deferred(POLICE_ALERT, (case_id, round_no), at)


def arrival_check(order_id: int, at: datetime) -> Deferred:
    """Check at `at` (the arrival deadline) that the accepted order's technician arrived."""
    return Deferred(ARRIVAL_CHECK, (order_id,), at)


def satisfaction_call(order_id: int, at: datetime) -> Deferred:
    """Queue the completed order's satisfaction call at `at`."""
    return Deferred(SATISFACTION_CALL, (order_id,), at)


def task_overdue(task_id: int, round_no: int, at: datetime) -> Deferred:
    """Send a casework task's overdue alert round `round_no` at `at` (1: duty officers, 2: supervisors)."""
    return Deferred(TASK_OVERDUE, (task_id, round_no), at)


def verify_arrival(visit_id: int, attempt: int, at: datetime | None) -> Deferred:
    """Place try `attempt` of a visit's arrival call at `at` (past the last try: leave it unverified)."""
    return Deferred(VERIFY_ARRIVAL, (visit_id, attempt), at)


def budget_flush(message_id: int, at: datetime | None = None) -> Deferred:
    """Send what the SMS budget held for the number of outbox row `message_id`, at `at` (when it allows)."""
    return Deferred(BUDGET_FLUSH, (message_id,), at)


def receipt_check(message_id: int, at: datetime | None = None) -> Deferred:
    """Ask the provider at `at` what became of a sent SMS that got no delivery receipt."""
    return Deferred(RECEIPT_CHECK, (message_id,), at)


def of_kind(work: Iterable[Deferred], kind: str) -> Work:
    """The records of one kind, in order."""
    return [item for item in work if item.kind == kind]


def message_ids(work: Iterable[Deferred]) -> list[int]:
    """The outbox rows the work sends, in order."""
    return [item.args[0] for item in work if item.kind == SEND]
