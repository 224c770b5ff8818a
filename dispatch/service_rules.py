"""Adding a dated price or subsidy rule: which days a new rule may start, and the checks before it is written.

A rule is never edited: a change is a new row with its own `valid_from`. A new rule may start today or later, or
on a past day of a month that is still open: no closed statement covers it (for a provider's own price, that
provider's statements; for a general price or a subsidy rule, any provider's, since they settle every provider).
So a price announced late can still be back-dated to the first of the month being worked on, and the initial
price list of a pilot already running can be loaded, but a closed month is never rewritten: its corrections go
into the next month as adjustments (models/settlement.py).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import PriceRule, Statement, StatementStatus, SubsidyRule


def first_open_day(session: Session, provider_id: int | None = None) -> date | None:
    """The first day after the last closed month (of `provider_id`, or of any provider); None: nothing closed."""
    query = select(func.max(Statement.month)).where(Statement.status == StatementStatus.CLOSED.value)
    if provider_id is not None:
        query = query.where(Statement.provider_id == provider_id)
    last = session.scalar(query)
    if last is None:
        return None
    return date(last.year + last.month // 12, last.month % 12 + 1, 1)


def day_refused(session: Session, day: date, provider_id: int | None = None) -> date | None:
    """None when a rule may start on `day`; else the first day a rule may start (a closed month covers `day`)."""
    first = first_open_day(session, provider_id)
    return first if first is not None and day < first else None


def existing_price(session: Session, category: str, provider_id: int | None, day: date) -> PriceRule | None:
    """The price rule already starting on `day` for the same category and provider, if any."""
    return session.scalar(select(PriceRule).where(
        PriceRule.category == category, PriceRule.valid_from == day,
        PriceRule.provider_id.is_(None) if provider_id is None else PriceRule.provider_id == provider_id))


def existing_subsidy(session: Session, resident_class: str, day: date) -> SubsidyRule | None:
    """The subsidy rule already starting on `day` for the same resident class, if any."""
    return session.scalar(select(SubsidyRule).where(SubsidyRule.resident_class == resident_class,
                                                    SubsidyRule.valid_from == day))


def price_history(session: Session, category: str | None = None, provider_id: int | None = None) -> list[PriceRule]:
    """Every price rule, newest start first; optionally of one category and of one provider's own rows."""
    query = select(PriceRule)
    if category is not None:
        query = query.where(PriceRule.category == category)
    if provider_id is not None:
        query = query.where(PriceRule.provider_id == provider_id)
    return list(session.scalars(query.order_by(PriceRule.category, PriceRule.provider_id.is_not(None),
                                               PriceRule.provider_id, PriceRule.valid_from.desc(),
                                               PriceRule.id.desc())))


def subsidy_history(session: Session) -> list[SubsidyRule]:
    """Every subsidy rule, by resident class, newest start first."""
    return list(session.scalars(select(SubsidyRule).order_by(SubsidyRule.resident_class,
                                                             SubsidyRule.valid_from.desc(), SubsidyRule.id.desc())))
