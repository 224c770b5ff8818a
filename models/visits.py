"""Verified visits and what the resident paid (issue 15): the proof a purchased service was delivered.

A Visit opens when the technician reports arrival (SMS, console) or clocks in from the resident's registered
phone. The resident's automated call verifies it (key 1), disputes it (key 2), or after two unanswered tries
leaves it unverified; a landline clock-in verifies itself (the caller ID proves the place). Unverified,
disputed and flagged (too short) visits are not settled until staff clear them with a reason.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, sql_in, utcnow


class Verification(StrEnum):
    """Whether the resident confirmed the technician was there."""

    PENDING = "pending"  # the arrival call is due or ringing
    VERIFIED = "verified"  # the resident pressed 1, or the technician clocked in from the resident's phone
    DISPUTED = "disputed"  # the resident pressed 2: staff alerted at once, the order flagged
    UNVERIFIED = "unverified"  # no answer after the last try


VISIT_SOURCES = ("sms", "landline", "console")
PAYMENT_METHODS = ("ecny", "wechat_alipay", "cash", "subsidy_only")


class Visit(Base):
    """One order's visit: arrival, completion, its verification, length, and whether staff cleared a flag."""

    __tablename__ = "visits"
    __table_args__ = (CheckConstraint(f"verification {sql_in(Verification)}", name="verification"),
                      CheckConstraint(f"arrival_source {sql_in(VISIT_SOURCES)}", name="arrival_source"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    arrival_source: Mapped[str] = mapped_column(String(20), default="sms")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completion_source: Mapped[str] = mapped_column(String(20), default="")
    verification: Mapped[str] = mapped_column(String(20), default=Verification.PENDING.value, index=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verify_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_verify_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    minutes: Mapped[int | None] = mapped_column(Integer)  # arrival to completion, whole minutes
    min_minutes: Mapped[int | None] = mapped_column(Integer)  # the category's minimum then in force
    too_short: Mapped[bool] = mapped_column(Boolean, default=False)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str] = mapped_column(String(100), default="")
    cleared_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payment(Base):
    """What the resident paid for an order and the subsidy owed, priced by the rules in force at completion."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint(f"method {sql_in(PAYMENT_METHODS)}", name="method"),
                      CheckConstraint("paid_fen >= 0 AND price_fen >= 0 AND subsidy_fen >= 0", name="amounts"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    method: Mapped[str] = mapped_column(String(20))
    paid_fen: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str] = mapped_column(String(100), default="")  # the e-CNY transaction reference
    source: Mapped[str] = mapped_column(String(20), default="sms")  # sms | console
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    price_fen: Mapped[int] = mapped_column(Integer, default=0)
    subsidy_fen: Mapped[int] = mapped_column(Integer, default=0)
    price_rule_id: Mapped[int | None] = mapped_column(ForeignKey("price_rules.id"))
    subsidy_rule_id: Mapped[int | None] = mapped_column(ForeignKey("subsidy_rules.id"))
