"""Purchased services (issue 15): the service providers (服务商), their price list and the subsidy rules.

Money is integer fen (1 yuan = 100 fen), never a float. Prices and subsidy rules are dated: a rule is in force
from `valid_from` (a local calendar day, inclusive) until the next rule for the same key starts, so a month
settles at the values then in force, and a change is a new row, never an edit of an old one.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime, sql_in, utcnow

# Who a subsidy rule applies to: a resident flag, or everyone else. A resident in several classes gets the
# most generous rule among them.
RESIDENT_CLASSES = ("hardship", "advanced_age", "empty_nest", "left_behind", "other")


class ServiceProvider(Base):
    """A company or organisation the bureau buys elderly services from; every technician belongs to one."""

    __tablename__ = "service_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    contract_start: Mapped[date | None] = mapped_column(Date)
    contract_end: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PriceRule(Base):
    """The price of one visit of a category from `valid_from` on: for every provider (provider_id None) or for one
    provider whose contract says so (that row wins over the general one); with the minimum visit length."""

    __tablename__ = "price_rules"
    __table_args__ = (
        UniqueConstraint("category", "provider_id", "valid_from", name="uq_price_rules_key"),
        CheckConstraint("price_fen >= 0", name="price"),
        CheckConstraint("min_minutes >= 0", name="min_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("service_providers.id"), index=True)
    price_fen: Mapped[int] = mapped_column(Integer)
    min_minutes: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class SubsidyRule(Base):
    """From `valid_from` on, the share of the price the bureau pays for a resident class (100 = fully subsidised)
    and the most it pays per resident per month (None: no cap)."""

    __tablename__ = "subsidy_rules"
    __table_args__ = (
        UniqueConstraint("resident_class", "valid_from", name="uq_subsidy_rules_key"),
        CheckConstraint(f"resident_class {sql_in(RESIDENT_CLASSES)}", name="resident_class"),
        CheckConstraint("share_percent >= 0 AND share_percent <= 100", name="share"),
        CheckConstraint("monthly_cap_fen IS NULL OR monthly_cap_fen >= 0", name="cap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_class: Mapped[str] = mapped_column(String(20))
    share_percent: Mapped[int] = mapped_column(Integer)
    monthly_cap_fen: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")


def price_in_force(session: Session, category: str, provider_id: int | None, day: date) -> PriceRule | None:
    """The price rule for a visit of `category` by `provider_id` on local day `day`: the provider's own rule in
    force that day, else the general one; None when no rule had started yet."""
    query = (select(PriceRule).where(PriceRule.category == category, PriceRule.valid_from <= day)
             .order_by(PriceRule.valid_from.desc(), PriceRule.id.desc()).limit(1))
    if provider_id is not None:
        own = session.scalar(query.where(PriceRule.provider_id == provider_id))
        if own is not None:
            return own
    return session.scalar(query.where(PriceRule.provider_id.is_(None)))


def subsidy_in_force(session: Session, resident_class: str, day: date) -> SubsidyRule | None:
    """The subsidy rule of a resident class in force on local day `day`, or None."""
    return session.scalar(select(SubsidyRule)
                          .where(SubsidyRule.resident_class == resident_class, SubsidyRule.valid_from <= day)
                          .order_by(SubsidyRule.valid_from.desc(), SubsidyRule.id.desc()).limit(1))
