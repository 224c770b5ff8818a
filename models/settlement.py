"""The monthly settlement of purchased services (issue 15): one statement per provider and month.

A statement is built from the records (verified visits × the price in force − what residents paid = subsidy
claimed); visits not yet cleared are listed apart and not counted. Once closed, a statement and its lines are
read-only: a later correction is an adjustment line of the next open month, pointing at what it corrects.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, sql_in, utcnow


class StatementStatus(StrEnum):
    """A month is open (lines may change) until staff close it (then read-only)."""

    OPEN = "open"
    CLOSED = "closed"


LINE_KINDS = ("visit", "adjustment")


class Statement(Base):
    """One provider's month: its lines, totals when closed, and who closed it."""

    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("provider_id", "month", name="uq_statements_provider_month"),
                      CheckConstraint(f"status {sql_in(StatementStatus)}", name="status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("service_providers.id"), index=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month (local calendar)
    status: Mapped[str] = mapped_column(String(20), default=StatementStatus.OPEN.value)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str] = mapped_column(String(100), default="")
    # Totals frozen at closing (fen): what the printed statement says and the bureau pays.
    visits: Mapped[int] = mapped_column(Integer, default=0)
    price_fen: Mapped[int] = mapped_column(Integer, default=0)
    paid_fen: Mapped[int] = mapped_column(Integer, default=0)
    subsidy_fen: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[StatementLine]] = relationship(cascade="all, delete-orphan", order_by="StatementLine.id")


class StatementLine(Base):
    """One counted visit, or an adjustment correcting a visit of a closed month; `counted` False lists a visit
    apart (unverified, disputed, too short) until staff clear it."""

    __tablename__ = "statement_lines"
    __table_args__ = (CheckConstraint(f"kind {sql_in(LINE_KINDS)}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="visit")
    category: Mapped[str] = mapped_column(String(20), default="")
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str] = mapped_column(String(40), default="")  # why not counted, or what an adjustment corrects
    price_fen: Mapped[int] = mapped_column(Integer, default=0)  # adjustments may be negative
    paid_fen: Mapped[int] = mapped_column(Integer, default=0)
    subsidy_fen: Mapped[int] = mapped_column(Integer, default=0)
    corrects_line_id: Mapped[int | None] = mapped_column(ForeignKey("statement_lines.id"))
    note: Mapped[str] = mapped_column(Text, default="")
