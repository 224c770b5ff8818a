"""The monthly settlement of purchased services (issue 15): a provider's statement built from the records alone.

A line per completed order of the provider's technicians completed in the local month: counted when its visit is
verified (or cleared by staff), not too short (or cleared) and paid; else listed apart with the reason. The
claim per line is min(price − paid, the subsidy the rules owe): a provider cannot claim more than the rules owe.

Corrections are detected at refresh: for every line of a CLOSED month of the provider, the figures the records
give now are compared with what was settled (the closed line plus the adjustments of later closed months); a
difference becomes an adjustment line (the difference only) of the earliest open month after it. Adjustment
lines of an open month are rebuilt at every refresh, so a correction undone before closing leaves nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Order,
    OrderStatus,
    Payment,
    Statement,
    StatementLine,
    StatementStatus,
    Technician,
    Verification,
    Visit,
    add_event,
    utcnow,
)

REASONS = ("pending", "no_visit", "disputed", "unverified", "too_short", "no_payment")
MAX_REASON_CHARS = 500


class SettlementError(ValueError):
    """A settlement step staff asked for that the rules refuse; `code` names why (for the console's text)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Figures:
    """What the records say one order's line is now."""

    category: str
    counted: bool
    reason: str
    price_fen: int
    paid_fen: int
    subsidy_fen: int
    note: str


def month_start(day: date) -> date:
    """The first day of the month `day` is in."""
    return day.replace(day=1)


def next_month(month: date) -> date:
    """The first day of the month after `month`."""
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A local month as UTC instants [start, end)."""
    start = datetime.combine(month_start(month), time(), tz)
    end = datetime.combine(next_month(month_start(month)), time(), tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def reason_apart(visit: Visit | None, payment: Payment | None) -> str:
    """Why an order's visit is not counted ("" when it is): staff clearance overrides the verification and length."""
    if visit is None:
        return "no_visit"
    if visit.cleared_at is None:
        if visit.verification == Verification.PENDING:
            return "pending"
        if visit.verification == Verification.DISPUTED:
            return "disputed"
        if visit.verification == Verification.UNVERIFIED:
            return "unverified"
        if visit.too_short:
            return "too_short"
    return "" if payment is not None else "no_payment"


def figures_of(order: Order, visit: Visit | None, payment: Payment | None) -> Figures:
    """The line the records give for one completed order."""
    reason = reason_apart(visit, payment)
    if payment is None:
        return Figures(order.category, False, reason, 0, 0, 0, "")
    owed = max(payment.price_fen - payment.paid_fen, 0)
    claim = min(owed, payment.subsidy_fen)
    note = f"rules {payment.subsidy_fen} > owed {owed}" if payment.subsidy_fen > owed else ""
    return Figures(order.category, reason == "", reason, payment.price_fen, payment.paid_fen, claim, note)


def _orders(session: Session, provider_id: int, month: date, tz: ZoneInfo) -> list[Order]:
    start, end = month_bounds(month, tz)
    return list(session.scalars(
        select(Order).join(Technician, Order.technician_id == Technician.id)
        .where(Technician.provider_id == provider_id, Order.status == OrderStatus.COMPLETED,
               Order.completed_at >= start, Order.completed_at < end)
        .order_by(Order.completed_at, Order.id)))


def _records(session: Session, order_ids: list[int]) -> tuple[dict[int, Visit], dict[int, Payment]]:
    if not order_ids:
        return {}, {}
    visits = {v.order_id: v for v in session.scalars(select(Visit).where(Visit.order_id.in_(order_ids)))}
    payments = {p.order_id: p for p in session.scalars(select(Payment).where(Payment.order_id.in_(order_ids)))}
    return visits, payments


def statement_for(session: Session, provider_id: int, month: date) -> Statement:
    """The provider's statement of the month, created open and empty if there is none yet (caller commits)."""
    month = month_start(month)
    statement = session.scalar(select(Statement).where(Statement.provider_id == provider_id,
                                                       Statement.month == month))
    if statement is None:
        statement = Statement(provider_id=provider_id, month=month, status=StatementStatus.OPEN.value)
        session.add(statement)
        session.flush()
    return statement


def _settled(line: StatementLine, adjustments: list[StatementLine]) -> tuple[bool, int, int, int]:
    """What has been paid out for a closed line so far: the line if counted, plus its closed adjustments."""
    counted = line.counted
    price, paid, subsidy = (line.price_fen, line.paid_fen, line.subsidy_fen) if line.counted else (0, 0, 0)
    for adj in adjustments:
        price, paid, subsidy = price + adj.price_fen, paid + adj.paid_fen, subsidy + adj.subsidy_fen
        counted = adj.reason != "withdrawn" if adj.reason in ("cleared", "withdrawn") else counted
    return counted, price, paid, subsidy


def _adjustments(session: Session, statement: Statement) -> list[StatementLine]:
    """The adjustment lines this open statement gets: corrections of closed months before it (not yet adjusted)."""
    closed = list(session.scalars(
        select(Statement).where(Statement.provider_id == statement.provider_id, Statement.month < statement.month,
                                Statement.status == StatementStatus.CLOSED.value).order_by(Statement.month)))
    open_months = list(session.scalars(
        select(Statement.month).where(Statement.provider_id == statement.provider_id,
                                      Statement.status == StatementStatus.OPEN.value)))
    closed_adjustments: dict[int, list[StatementLine]] = {}
    for other in closed:
        for line in other.lines:
            if line.kind == "adjustment" and line.corrects_line_id is not None:
                closed_adjustments.setdefault(line.corrects_line_id, []).append(line)
    made = []
    for old in closed:
        # The earliest open month after the closed one takes its corrections, so none is claimed twice.
        if min((m for m in open_months if m > old.month), default=None) != statement.month:
            continue
        lines = [line for line in old.lines if line.kind == "visit" and line.order_id is not None]
        visits, payments = _records(session, [line.order_id for line in lines if line.order_id is not None])
        for line in lines:
            order = session.get(Order, line.order_id)
            if order is None:
                continue
            now = figures_of(order, visits.get(order.id), payments.get(order.id))
            was_counted, price, paid, subsidy = _settled(line, closed_adjustments.get(line.id, []))
            target = (now.price_fen, now.paid_fen, now.subsidy_fen) if now.counted else (0, 0, 0)
            diff = (target[0] - price, target[1] - paid, target[2] - subsidy)
            if diff == (0, 0, 0) and now.counted == was_counted:
                continue
            kind = "cleared" if now.counted and not was_counted else (
                "withdrawn" if was_counted and not now.counted else "corrected")
            made.append(StatementLine(order_id=order.id, kind="adjustment", category=order.category, counted=True,
                                      reason=kind, price_fen=diff[0], paid_fen=diff[1], subsidy_fen=diff[2],
                                      corrects_line_id=line.id, note=f"{old.month:%Y-%m} {order.code}"))
    return made


def refresh(session: Session, provider_id: int, month: date, tz: ZoneInfo) -> Statement:
    """Build or rebuild the open statement of a provider and month from the records (caller commits).

    Visit lines keep their ids (one per order); adjustment lines are rebuilt. A closed month is refused.
    """
    statement = statement_for(session, provider_id, month)
    if statement.status == StatementStatus.CLOSED:
        raise SettlementError("closed")
    orders = _orders(session, provider_id, statement.month, tz)
    visits, payments = _records(session, [o.id for o in orders])
    existing: dict[int | None, StatementLine] = {line.order_id: line for line in statement.lines
                                                 if line.kind == "visit"}
    for line in [line for line in statement.lines if line.kind == "adjustment"]:
        statement.lines.remove(line)
    for order in orders:
        fig = figures_of(order, visits.get(order.id), payments.get(order.id))
        if order.id in existing:
            line = existing.pop(order.id)
        else:
            line = StatementLine(order_id=order.id, kind="visit")
            statement.lines.append(line)
        line.category, line.counted, line.reason = fig.category, fig.counted, fig.reason
        line.price_fen, line.paid_fen, line.subsidy_fen, line.note = (fig.price_fen, fig.paid_fen,
                                                                      fig.subsidy_fen, fig.note)
    for gone in existing.values():
        statement.lines.remove(gone)
    statement.lines.extend(_adjustments(session, statement))
    _total(statement)
    session.flush()
    return statement


def _total(statement: Statement) -> None:
    counted = [line for line in statement.lines if line.counted]
    statement.visits = sum(1 for line in counted if line.kind == "visit")
    statement.price_fen = sum(line.price_fen for line in counted)
    statement.paid_fen = sum(line.paid_fen for line in counted)
    statement.subsidy_fen = sum(line.subsidy_fen for line in counted)


def close(session: Session, statement: Statement, actor: str, tz: ZoneInfo, now: datetime | None = None) -> None:
    """Refresh the month one last time, then freeze it: totals kept, read-only from now on (caller commits)."""
    if statement.status == StatementStatus.CLOSED:
        raise SettlementError("closed")
    when = now or utcnow()
    if next_month(statement.month) > when.astimezone(tz).date():
        raise SettlementError("month_not_over")
    refresh(session, statement.provider_id, statement.month, tz)
    statement.status, statement.closed_at, statement.closed_by = StatementStatus.CLOSED.value, when, actor


def clear_visit(session: Session, statement: Statement, order_id: int, actor: str, reason: str) -> Visit:
    """Staff clear a visit listed apart, with a reason (an order event): counted at the next refresh.

    Allowed from an open statement for its own lines and for lines still apart in closed months before it
    (that clearance becomes an adjustment of this month). Caller commits.
    """
    reason = reason.strip()
    if statement.status == StatementStatus.CLOSED:
        raise SettlementError("closed")
    if not reason:
        raise SettlementError("reason_missing")
    if len(reason) > MAX_REASON_CHARS:
        raise SettlementError("reason_too_long")
    apart = {line.order_id: line.reason for line in late_apart(session, statement)}
    apart.update({line.order_id: line.reason for line in statement.lines if line.kind == "visit" and not line.counted})
    if order_id not in apart:
        raise SettlementError("not_apart")
    if apart[order_id] in ("no_visit", "no_payment"):
        raise SettlementError("needs_record")  # a clearance proves a visit happened, not what was paid
    visit = session.scalar(select(Visit).where(Visit.order_id == order_id))
    if visit is None:
        raise SettlementError("no_visit")
    if visit.cleared_at is not None:
        raise SettlementError("already_cleared")
    visit.cleared_at, visit.cleared_by, visit.cleared_reason = utcnow(), actor, reason
    order = session.get(Order, order_id)
    if order is not None:
        add_event(session, order, "visit:cleared", reason, actor)
    return visit


def late_apart(session: Session, statement: Statement) -> list[StatementLine]:
    """Lines of the provider's closed months before this one still apart and not since cleared or adjusted."""
    lines = list(session.scalars(
        select(StatementLine).join(Statement)
        .where(Statement.provider_id == statement.provider_id, Statement.month < statement.month,
               Statement.status == StatementStatus.CLOSED.value, StatementLine.kind == "visit",
               StatementLine.counted.is_(False))
        .order_by(Statement.month, StatementLine.id)))
    adjusted = {line.corrects_line_id for line in statement.lines if line.kind == "adjustment"}
    adjusted |= set(session.scalars(
        select(StatementLine.corrects_line_id).join(Statement)
        .where(Statement.provider_id == statement.provider_id, StatementLine.kind == "adjustment",
               Statement.status == StatementStatus.CLOSED.value)))
    return [line for line in lines if line.id not in adjusted]
