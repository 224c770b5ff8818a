"""Figures of the elderly line: orders per category per month, the 15-minute circle, times, satisfaction.

Every figure counts the orders *created* in the period (a local day's orders are the ones created
between its local midnights), whatever happened to them later, so a figure never moves between ranges.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.reports.period import DurationStats, Period, minutes_between
from models import CATEGORY_CODES, Order

RATINGS = (1, 2, 3)  # 1 satisfied, 2 average, 3 dissatisfied (the callback's keys)


@dataclass
class ElderlyFigures:
    """The elderly line's figures for one period."""

    period: Period
    sla_minutes: float
    categories: list[str]
    months: list[str]
    per_month: dict[str, dict[str, int]]          # month -> category -> orders created
    orders: int = 0
    cancelled: int = 0
    # The 15-minute service circle (see `elderly_figures`).
    on_site_counted: int = 0
    on_site_within: int = 0
    accept: DurationStats = DurationStats(0, None, None)
    arrive: DurationStats = DurationStats(0, None, None)
    complete: DurationStats = DurationStats(0, None, None)
    escalated: int = 0
    escalated_per_month: dict[str, int] = field(default_factory=dict)
    ratings: dict[int, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))
    no_answer: int = 0
    completed: int = 0
    completed_all_time: int = 0

    @property
    def on_site_share(self) -> float | None:
        """Share (0..1) of counted orders with a technician on site in time; None when none counted."""
        return self.on_site_within / self.on_site_counted if self.on_site_counted else None

    @property
    def rated(self) -> int:
        """Orders the resident rated on the satisfaction callback."""
        return sum(self.ratings.values())

    @property
    def satisfied_share(self) -> float | None:
        """Share (0..1) of rated orders rated 1 (satisfied); None when nothing was rated."""
        return self.ratings[1] / self.rated if self.rated else None

    @property
    def category_totals(self) -> dict[str, int]:
        """Orders per category over the whole period."""
        return {c: sum(self.per_month[m][c] for m in self.months) for c in self.categories}


def elderly_figures(session: Session, period: Period, sla_minutes: float) -> ElderlyFigures:
    """The elderly line's figures for the orders created in `period`.

    - On site within the SLA (the bureau's 15-minute service circle): an order counts when a technician
      arrived at most `sla_minutes` after the order was created (the resident's wait, not the technician's
      travel after accepting). The base is every order of the period except those cancelled before any
      technician arrived; orders not (yet) arrived count as not within.
    - Minutes to accept / arrive / complete run from the order's creation, over the orders that reached
      that step; median and 90th percentile by linear interpolation (see `percentile`).
    - Escalations: orders that were ever escalated (nobody accepted), even if later dispatched by hand.
    - Satisfaction: ratings 1/2/3 from the callback; "no answer" = callback placed but no rating.
    - Completed (服务人次): orders of the period that were completed; and all completed orders ever.
    """
    start, end = period.bounds()
    months = period.months()
    rows = session.execute(
        select(Order.category, Order.created_at, Order.accepted_at, Order.arrived_at, Order.completed_at,
               Order.escalated_at, Order.cancelled_at, Order.rating, Order.satisfaction_call_at)
        .where(Order.created_at >= start, Order.created_at < end)
    ).all()
    # An order of a category no longer offered still counts, after the known ones.
    categories = list(CATEGORY_CODES) + sorted({r.category for r in rows} - set(CATEGORY_CODES))
    figures = ElderlyFigures(period=period, sla_minutes=sla_minutes, categories=categories, months=months,
                             per_month={m: dict.fromkeys(categories, 0) for m in months},
                             escalated_per_month=dict.fromkeys(months, 0))
    accept, arrive, complete = [], [], []
    for row in rows:
        month = period.month_of(row.created_at)
        figures.orders += 1
        figures.per_month[month][row.category] += 1
        to_accept = minutes_between(row.created_at, row.accepted_at)
        to_arrive = minutes_between(row.created_at, row.arrived_at)
        to_complete = minutes_between(row.created_at, row.completed_at)
        for measured, minutes in ((accept, to_accept), (arrive, to_arrive), (complete, to_complete)):
            if minutes is not None:
                measured.append(minutes)
        if row.cancelled_at is not None:
            figures.cancelled += 1
        if row.cancelled_at is None or row.arrived_at is not None:
            figures.on_site_counted += 1
            figures.on_site_within += to_arrive is not None and to_arrive <= sla_minutes
        if row.escalated_at is not None:
            figures.escalated += 1
            figures.escalated_per_month[month] += 1
        if row.rating in figures.ratings:
            figures.ratings[row.rating] += 1
        elif row.satisfaction_call_at is not None:
            figures.no_answer += 1
        figures.completed += row.completed_at is not None
    figures.accept, figures.arrive, figures.complete = (DurationStats.of(m) for m in (accept, arrive, complete))
    figures.completed_all_time = session.scalar(
        select(func.count(Order.id)).where(Order.completed_at.is_not(None))) or 0
    return figures
