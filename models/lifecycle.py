"""The lifecycle of orders, offers and cases: their statuses, the groupings read everywhere, one transition table each.

A transition says, for one status an order or a case moves to, which statuses it may come from, which column it
stamps with the time (only when unset: a status reached again keeps its first time) and which event it records.
The ORM path (`models.orders.set_status`, `models.cases.set_case_status`) and the hot paths written as single
statements (`guarded_update`, `transition_values`, `event_kind`) all read the rule from here, so they cannot drift.
The ORM path refuses a move its table does not list (ValueError, nothing changed), whatever the caller checked.
The values are today's strings: StrEnum members compare and store as those strings.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Table, bindparam, func, text, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ColumnElement, Update


class OrderStatus(StrEnum):
    """Where a service order is."""

    PENDING = "pending"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


class OfferStatus(StrEnum):
    """What became of one offer of an order to one technician."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    FAILED = "failed"


class CaseStatus(StrEnum):
    """Where a child-line case is, from the first ring to its closing note."""

    RINGING = "ringing"
    ANSWERED = "answered"
    VOICEMAIL = "voicemail"
    MISSED = "missed"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class TaskStatus(StrEnum):
    """Where a casework task is: open (sent or not yet), acknowledged by its worker, done or cancelled."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    DONE = "done"
    CANCELLED = "cancelled"


_O, _C, _T = OrderStatus, CaseStatus, TaskStatus
# Tuples, not sets: the console lists them in this order.
ORDER_OPEN = (_O.PENDING, _O.OFFERED, _O.ACCEPTED, _O.ARRIVED, _O.ESCALATED)
ORDER_CLOSED = (_O.COMPLETED, _O.CANCELLED)
ORDER_OFFERABLE = (_O.PENDING, _O.OFFERED)  # an offer round may still be written
ORDER_ACCEPTABLE = (_O.PENDING, _O.OFFERED, _O.ESCALATED)  # nobody has it yet: a technician may take it
# An arrived technician is at the door doing the work: replacing them is a new order, not a reassignment.
ORDER_REASSIGNABLE = (*ORDER_ACCEPTABLE, _O.ACCEPTED)
ORDER_WORKING = (_O.ACCEPTED, _O.ARRIVED)  # a technician has it
OFFER_LOST = (OfferStatus.SUPERSEDED, OfferStatus.EXPIRED)  # the technician's chance went to someone else
CASE_UNACKNOWLEDGED = (_C.VOICEMAIL, _C.MISSED)  # alerts repeat until a human acknowledges
CASE_CLOSABLE = (_C.ANSWERED, _C.ACKNOWLEDGED)  # a person has it: it may be closed with a note
CASE_MESSAGE_ALLOWED = (_C.RINGING, _C.VOICEMAIL, _C.MISSED)  # nobody has it yet: a message is what it needs
TASK_OPEN = (_T.OPEN, _T.ACKNOWLEDGED)  # still to do: overdue alerts apply, the case cannot close
TASK_FINISHED = (_T.DONE, _T.CANCELLED)
# Twilio's CallStatus values after which a call is over (a call log's status, not a record of ours).
CALL_ENDED = ("completed", "busy", "no-answer", "failed", "canceled")

NEW = None  # the "from" of a record's first status: it did not exist before


@dataclass(frozen=True)
class Transition:
    """Moving a record to `to`: allowed from `sources`, stamping `stamp` (when unset), recording `event`."""

    to: str
    sources: tuple[str | None, ...]
    stamp: str | None
    event: str

    def allows(self, status: str | None) -> bool:
        """Whether a record in `status` (NEW for none yet) may make this move."""
        return status in self.sources


ORDER_TRANSITIONS: dict[str, Transition] = {t.to: t for t in (
    Transition(_O.PENDING, (NEW,), None, "status:pending"),
    Transition(_O.OFFERED, ORDER_OFFERABLE, "offered_at", "status:offered"),
    Transition(_O.ACCEPTED, ORDER_ACCEPTABLE, "accepted_at", "status:accepted"),
    Transition(_O.ARRIVED, (_O.ACCEPTED,), "arrived_at", "status:arrived"),
    Transition(_O.COMPLETED, ORDER_WORKING, "completed_at", "status:completed"),
    Transition(_O.ESCALATED, ORDER_OFFERABLE, "escalated_at", "status:escalated"),
    Transition(_O.CANCELLED, ORDER_OPEN, "cancelled_at", "status:cancelled"),
)}

CASE_TRANSITIONS: dict[str, Transition] = {t.to: t for t in (
    Transition(_C.RINGING, (NEW,), None, "call"),
    Transition(_C.ANSWERED, (_C.RINGING,), "answered_at", "answered"),
    Transition(_C.VOICEMAIL, (_C.RINGING, _C.MISSED), None, "voicemail"),
    # A call the fallback answered while the database was down becomes a case only afterwards: missed from NEW.
    Transition(_C.MISSED, (NEW, _C.RINGING), None, "missed"),
    Transition(_C.ACKNOWLEDGED, CASE_UNACKNOWLEDGED, "acknowledged_at", "acknowledged"),
    Transition(_C.CLOSED, CASE_CLOSABLE, "closed_at", "closed"),
)}


TASK_TRANSITIONS: dict[str, Transition] = {t.to: t for t in (
    Transition(_T.OPEN, (NEW,), None, "task"),
    Transition(_T.ACKNOWLEDGED, (_T.OPEN,), "acknowledged_at", "task:acknowledged"),
    Transition(_T.DONE, TASK_OPEN, "done_at", "task:done"),
    Transition(_T.CANCELLED, TASK_OPEN, "cancelled_at", "task:cancelled"),
)}


def move(table: dict[str, Transition], record, to: str) -> Transition:
    """The transition moving `record` to `to`; ValueError naming from and to when the table does not allow it."""
    transition = table.get(to)
    if transition is None:
        raise ValueError(f"{type(record).__name__} has no status {to!r}")
    if not transition.allows(record.status):
        raise ValueError(f"{type(record).__name__} cannot move from {record.status or 'new'} to {to}")
    return transition


def event_kind(table: dict[str, Transition], to: str) -> str:
    """The event kind a move to `to` records (`status:<to>` for orders)."""
    return table[to].event


def changes(record, transition: Transition, now) -> dict:
    """The attributes `transition` sets on an ORM record: the status, and its stamp when unset."""
    values = {"status": transition.to}
    if transition.stamp and getattr(record, transition.stamp) is None:
        values[transition.stamp] = now
    return values


def apply_to(record, transition: Transition, now) -> None:
    """Set the ORM record's status and its stamp (when unset); the caller records the event."""
    for name, value in changes(record, transition, now).items():
        setattr(record, name, value)


def as_written(record, transition: Transition, now) -> None:
    """Make the loaded record show what a statement making `transition` wrote, as if loaded after it (no flush)."""
    for name, value in changes(record, transition, now).items():
        set_committed_value(record, name, value)


def transition_values(table: Table, transition: Transition, now: ColumnElement | object) -> dict:
    """The SET clause of a Core UPDATE making `transition`: the status, and its stamp unless set before."""
    values: dict = {"status": transition.to}
    if transition.stamp:
        column = table.c[transition.stamp]
        if not isinstance(now, ColumnElement):
            now = bindparam("lifecycle_now", now, type_=column.type)
        values[transition.stamp] = func.coalesce(column, now)
    return values


def guarded_update(table: Table, transition: Transition, row_id, now) -> Update:
    """A conditional UPDATE making `transition` on one row only if it is in one of the move's sources (its
    rowcount says who won a race); `row_id` and `now` are values or bind parameters."""
    # Fixed values written into the SQL: an IN over bound values is expanded again at every execution.
    sources = ", ".join(f"'{s}'" for s in transition.sources if s is not NEW)
    return (update(table).where(table.c.id == row_id, text(f"{table.name}.status IN ({sources})"))
            .values(**transition_values(table, transition, now)))
