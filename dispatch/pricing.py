"""The price of an order and the subsidy the bureau owes for it, by the rules in force on its completion day.

price = the provider's own price for the category that local day, else the general one (0 with no rule);
share = the most generous subsidy rule among the resident's classes (their flags, else "other"; an unregistered
caller gets none); subsidy = min(price × share / 100 rounded half up to the fen, the rule's monthly cap less
the subsidy owed for the resident's orders completed earlier in the same local month). Rules are dated, and
the earlier orders are priced the same way in completion order, so recomputing a past order gives the same
figures whatever was edited or recorded since.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Order, OrderStatus, Resident, Technician
from models.services import SubsidyRule, price_in_force, subsidy_in_force


@dataclass(frozen=True)
class Priced:
    """An order's figures in fen and the rules they came from (None: no rule in force)."""

    price_fen: int
    subsidy_fen: int
    price_rule_id: int | None = None
    subsidy_rule_id: int | None = None
    resident_class: str = ""
    share_percent: int = 0

    @property
    def resident_owes_fen(self) -> int:
        """What the resident is expected to pay: the price less the subsidy."""
        return self.price_fen - self.subsidy_fen


def yuan(fen: int) -> str:
    """Fen shown as yuan: 2050 -> "20.50元"."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}元"


def share_of(price_fen: int, share_percent: int) -> int:
    """price × share / 100 in whole fen, half a fen rounded up (四舍五入): 1999 × 55% = 1099.45 -> 1099."""
    return (price_fen * share_percent + 50) // 100


def local_day(at: datetime, tz: ZoneInfo) -> date:
    """The bureau's calendar day of an instant."""
    return at.astimezone(tz).date()


def resident_classes(resident: Resident | None) -> list[str]:
    """The subsidy classes of a resident: their flags, else ["other"]; none for an unregistered caller."""
    if resident is None:
        return []
    return resident.flags or ["other"]


def price_order(session: Session, order: Order, tz: ZoneInfo) -> Priced:
    """The figures of one completed order (an order not completed yet has none: zeros)."""
    if order.completed_at is None:
        return Priced(0, 0)
    if order.resident_id is None:
        return _priced(session, order, tz, 0)
    return _month_of(session, order, tz)[order.id]


def _month_of(session: Session, order: Order, tz: ZoneInfo) -> dict[int, Priced]:
    """Every completed order of the resident in the order's local month, priced in completion order (the order's
    own completion decides the month even if its status later changed)."""
    assert order.completed_at is not None and order.resident_id is not None
    day = local_day(order.completed_at, tz)
    first = day.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    start, end = _utc_midnight(first, tz), _utc_midnight(after, tz)
    orders = list(session.scalars(
        select(Order).where(Order.resident_id == order.resident_id, Order.completed_at >= start,
                            Order.completed_at < end, Order.status == OrderStatus.COMPLETED)
        .order_by(Order.completed_at, Order.id)))
    if order not in orders:  # a status changed after completion: still priced, after the month's others
        orders.append(order)
    owed, found = 0, {}
    for each in orders:
        priced = _priced(session, each, tz, owed)
        found[each.id] = priced
        owed += priced.subsidy_fen
        if each.id == order.id:
            break
    return found


def _priced(session: Session, order: Order, tz: ZoneInfo, owed_this_month: int) -> Priced:
    """One order's figures, given the subsidy already owed to its resident this month."""
    assert order.completed_at is not None
    day = local_day(order.completed_at, tz)
    provider_id = session.scalar(select(Technician.provider_id).where(Technician.id == order.technician_id))
    rule = price_in_force(session, order.category, provider_id, day)
    price = rule.price_fen if rule is not None else 0
    best = Priced(price, 0, rule.id if rule else None)
    for resident_class in resident_classes(order.resident):
        subsidy = subsidy_in_force(session, resident_class, day)
        if subsidy is None:
            continue
        candidate = Priced(price, _owed(price, subsidy, owed_this_month), best.price_rule_id, subsidy.id,
                           resident_class, subsidy.share_percent)
        if _more_generous(candidate, subsidy, best):
            best = candidate
    return best


def _owed(price_fen: int, rule: SubsidyRule, owed_this_month: int) -> int:
    raw = share_of(price_fen, rule.share_percent)
    if rule.monthly_cap_fen is None:
        return raw
    return max(0, min(raw, rule.monthly_cap_fen - owed_this_month))


def _more_generous(candidate: Priced, rule: SubsidyRule, best: Priced) -> bool:
    """More subsidy for this order wins; at equal subsidy the higher share, then the first class listed."""
    if best.subsidy_rule_id is None:
        return True
    return (candidate.subsidy_fen, rule.share_percent) > (best.subsidy_fen, best.share_percent)


def _utc_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(ZoneInfo("UTC"))
