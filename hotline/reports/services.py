"""Purchased-services figures (issue 15): subsidy paid out per month and category from closed statements, and per
provider the share of verified visits and the flags (disputed, unverified, too short) over a range of local days."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.reports.period import Period
from models import (
    Order,
    OrderStatus,
    ServiceProvider,
    Statement,
    StatementLine,
    StatementStatus,
    Technician,
    Verification,
    Visit,
)

FLAGS = ("disputed", "unverified", "too_short")


@dataclass
class ProviderFigures:
    """One provider's visits in the range: how many, how many verified (or cleared), and each flag."""

    name: str
    visits: int = 0
    verified: int = 0
    flags: dict[str, int] = field(default_factory=lambda: {f: 0 for f in FLAGS})

    @property
    def verified_share(self) -> float | None:
        """Verified visits as a share of all, None without visits."""
        return self.verified / self.visits if self.visits else None


@dataclass
class ServiceFigures:
    """The report: subsidy (fen) by month and category, and the providers' figures."""

    months: list[str]
    categories: list[str]
    subsidy: dict[str, dict[str, int]]
    providers: list[ProviderFigures]


def service_figures(session: Session, period: Period) -> ServiceFigures:
    """The purchased-services figures of the period (statement months that fall in it; visits completed in it)."""
    months = period.months()
    subsidy: dict[str, dict[str, int]] = {m: defaultdict(int) for m in months}
    first_month = period.first.replace(day=1)
    rows = session.execute(
        select(Statement.month, StatementLine.category, StatementLine.subsidy_fen)
        .join(StatementLine, StatementLine.statement_id == Statement.id)
        .where(Statement.status == StatementStatus.CLOSED.value, StatementLine.counted.is_(True),
               Statement.month >= first_month, Statement.month <= period.last))
    categories: set[str] = set()
    for month, category, fen in rows:
        key = f"{month:%Y-%m}"
        if key in subsidy:
            subsidy[key][category] += fen
            categories.add(category)
    start, end = period.bounds()
    providers = {p.id: ProviderFigures(p.name) for p in session.scalars(select(ServiceProvider)
                                                                           .order_by(ServiceProvider.name))}
    visits = session.execute(
        select(Technician.provider_id, Visit.verification, Visit.too_short, Visit.cleared_at)
        .join(Order, Order.id == Visit.order_id).join(Technician, Technician.id == Order.technician_id)
        .where(Order.status == OrderStatus.COMPLETED, Order.completed_at >= start, Order.completed_at < end,
               Technician.provider_id.is_not(None)))
    for provider_id, verification, too_short, cleared_at in visits:
        figures = providers.get(provider_id)
        if figures is None:
            continue
        figures.visits += 1
        if verification == Verification.VERIFIED or cleared_at is not None:
            figures.verified += 1
        if verification in ("disputed", "unverified"):
            figures.flags[verification] += 1
        if too_short:
            figures.flags["too_short"] += 1
    return ServiceFigures(months, sorted(categories), {m: dict(v) for m, v in subsidy.items()},
                          list(providers.values()))
