"""The demo's purchased services (issue 15): two providers, their technicians, a price list that changed in the
middle of last month, the subsidy rules, and last month's visits and payments, so the settlement page shows a
real month on `make run`.

`load_services` (registry only, from `load_demo`) adds no orders; `load_service_month` (after the history, from
the launcher) gives every order completed since the start of last month a verified visit and a payment priced by
the rules then in force, and adds a handful of last month's own orders: one disputed, one too short, one
unverified, so the statement has lines apart to clear.
"""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    ORDER_TRANSITIONS,
    Order,
    OrderStatus,
    Payment,
    PriceRule,
    Resident,
    ServiceProvider,
    SubsidyRule,
    Technician,
    Visit,
    add_event,
    price_in_force,
    subsidy_in_force,
)

DEMO_ACTOR = "演示数据"  # who the demo's rules and payments say recorded them (shown in the Chinese console)
PROVIDERS = (("林东镇康乐居家养老服务中心", "韩晓梅", "+8613904760101",
              ("13804761101", "13804761102", "13804761103")),
             ("巴林左旗夕阳红家政服务有限公司", "高志远", "+8613904760102",
              ("13804761104", "13804761105", "13804761106")))
# (category, price in fen, minimum minutes); housekeeping rose from 30元 to 35元 on the 16th of last month.
PRICES = (("daily_care", 4000, 20), ("housekeeping", 3000, 20), ("companionship", 2500, 20),
          ("legal_aid", 5000, 20), ("emergency", 6000, 10))
NEW_HOUSEKEEPING_FEN, CHANGE_DAY = 3500, 16
OWN_DAILY_CARE_FEN = 3800  # the second provider's contract price for daily care
FULL, SHARE, CAP_FEN = ("hardship", "advanced_age"), 50, 20000  # 100% for these classes, else 50%; 200元 a month
# Last month's own orders: (day, resident index, technician phone suffix, category, verification, too short).
OWN_ORDERS = (
    (3, 0, "1101", "daily_care", "verified", False), (6, 1, "1102", "housekeeping", "verified", False),
    (9, 2, "1104", "daily_care", "verified", False), (12, 3, "1105", "housekeeping", "disputed", False),
    (14, 0, "1103", "housekeeping", "verified", True), (18, 1, "1101", "housekeeping", "verified", False),
    (21, 3, "1104", "daily_care", "unverified", False), (24, 2, "1102", "companionship", "verified", False),
    (26, 3, "1105", "housekeeping", "verified", False), (27, 0, "1101", "daily_care", "verified", False),
)


def first_of_last_month(now: datetime, tz: ZoneInfo) -> date:
    """The first local day of the month before `now`'s."""
    today = now.astimezone(tz).date()
    return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)


def load_services(session: Session, tz: ZoneInfo, now: datetime) -> None:
    """Providers, their technicians, the price list and the subsidy rules, in force since the month before last."""
    last = first_of_last_month(now, tz)
    start = date(last.year - (last.month == 1), (last.month - 2) % 12 + 1, 1)
    providers = []
    for name, contact, phone, techs in PROVIDERS:
        provider = ServiceProvider(name=name, contact_name=contact, contact_phone=phone, contract_start=start,
                                   contract_end=date(start.year + 2, start.month, 1) - timedelta(days=1))
        session.add(provider)
        session.flush()
        providers.append(provider)
        for technician in session.scalars(select(Technician).where(Technician.phone.in_(["+86" + t for t in techs]))):
            technician.provider_id = provider.id
    for category, fen, minutes in PRICES:
        session.add(PriceRule(category=category, price_fen=fen, min_minutes=minutes, valid_from=start,
                              created_by=DEMO_ACTOR))
    session.add(PriceRule(category="housekeeping", price_fen=NEW_HOUSEKEEPING_FEN, min_minutes=20,
                          valid_from=last.replace(day=CHANGE_DAY), created_by=DEMO_ACTOR))
    session.add(PriceRule(category="daily_care", provider_id=providers[1].id, price_fen=OWN_DAILY_CARE_FEN,
                          min_minutes=20, valid_from=start, created_by=DEMO_ACTOR))
    for resident_class in ("hardship", "advanced_age", "empty_nest", "left_behind", "other"):
        session.add(SubsidyRule(resident_class=resident_class, share_percent=100 if resident_class in FULL else SHARE,
                                monthly_cap_fen=CAP_FEN, valid_from=start, created_by=DEMO_ACTOR))
    session.flush()


def _classes(resident: Resident | None) -> list[str]:
    return (resident.flags if resident else []) or ["other"]


def _payment(session: Session, order: Order, tz: ZoneInfo, used: dict, rng: random.Random) -> Payment | None:
    """The payment the rules give an order: price in force that day, the resident's best rule, the month's cap."""
    assert order.completed_at is not None and order.technician is not None
    day = order.completed_at.astimezone(tz).date()
    price = price_in_force(session, order.category, order.technician.provider_id, day)
    if price is None:
        return None
    rules = [r for r in (subsidy_in_force(session, c, day) for c in _classes(order.resident)) if r is not None]
    best = max(rules, key=lambda r: (r.share_percent, r.monthly_cap_fen or 10**9), default=None)
    owed = price.price_fen * best.share_percent // 100 if best else 0
    key = (order.resident_id, day.replace(day=1))
    if best is not None and best.monthly_cap_fen is not None:
        owed = max(min(owed, best.monthly_cap_fen - used[key]), 0)
    used[key] += owed
    paid = price.price_fen - owed
    method = "subsidy_only" if paid == 0 else rng.choice(("ecny", "wechat_alipay", "cash"))
    return Payment(order_id=order.id, method=method, paid_fen=paid, price_fen=price.price_fen, subsidy_fen=owed,
                   reference=f"ECNY{order.code}" if method == "ecny" else "", recorded_at=order.completed_at,
                   recorded_by=DEMO_ACTOR, price_rule_id=price.id, subsidy_rule_id=best.id if best else None)


def _own_order(session: Session, n: int, row: tuple, last: date, tz: ZoneInfo, residents: list[Resident],
               techs: dict[str, Technician]) -> tuple[Order, str, bool]:
    day, who, phone, category, verification, too_short = row
    arrived = datetime.combine(last.replace(day=day), time(9, 30), tz)
    tech = techs["+861380476" + phone]
    order = Order(code=f"{800001 + n:06d}", category=category, resident=residents[who % len(residents)],
                  technician=tech, status=OrderStatus.COMPLETED.value, created_at=arrived - timedelta(minutes=40),
                  offered_at=arrived - timedelta(minutes=39), accepted_at=arrived - timedelta(minutes=35),
                  arrived_at=arrived, completed_at=arrived + timedelta(minutes=12 if too_short else 50),
                  satisfaction_call_at=arrived + timedelta(minutes=60), promise_kept=True)
    order.caller_phone = order.resident.primary_phone if order.resident else None
    session.add(order)
    add_event(session, order, ORDER_TRANSITIONS[OrderStatus.PENDING].event, "电话下单",
              order.resident.name if order.resident else "").at = order.created_at
    for status, at in ((OrderStatus.ACCEPTED, order.accepted_at), (OrderStatus.ARRIVED, order.arrived_at),
                       (OrderStatus.COMPLETED, order.completed_at)):
        add_event(session, order, ORDER_TRANSITIONS[status].event, tech.name, tech.name).at = at
    return order, verification, too_short


def load_service_month(session: Session, tz: ZoneInfo, now: datetime, seed: int = 2026) -> int:
    """Last month's visits and payments (caller commits); returns how many visits were added (0: already there)."""
    if session.scalar(select(Visit.id).limit(1)) is not None:
        return 0
    rng = random.Random(seed)
    last = first_of_last_month(now, tz)
    techs = {t.phone: t for t in session.scalars(select(Technician).where(Technician.provider_id.is_not(None)))}
    residents = list(session.scalars(select(Resident).order_by(Resident.id)))
    if len(techs) < 6 or not residents:
        return 0
    verdicts = {}
    for n, row in enumerate(OWN_ORDERS):
        order, verification, too_short = _own_order(session, n, row, last, tz, residents, techs)
        verdicts[order.code] = (verification, too_short)
    session.flush()
    start = datetime.combine(last, time(), tz)
    orders = list(session.scalars(
        select(Order).where(Order.status == OrderStatus.COMPLETED, Order.completed_at >= start,
                            Order.technician_id.in_([t.id for t in techs.values()]))
        .order_by(Order.completed_at, Order.id)))
    used: dict[tuple, int] = defaultdict(int)
    techs_by_id = {t.id: t for t in techs.values()}
    for order in orders:
        assert order.arrived_at is not None and order.completed_at is not None
        verification, _ = verdicts.get(order.code, ("verified", False))
        minutes = int((order.completed_at - order.arrived_at).total_seconds() // 60)
        rule = price_in_force(session, order.category, techs_by_id[order.technician_id].provider_id,
                              order.completed_at.astimezone(tz).date())
        least = rule.min_minutes if rule else 0
        session.add(Visit(order_id=order.id, arrived_at=order.arrived_at, completed_at=order.completed_at,
                          completion_source="sms", verification=verification, minutes=minutes,
                          min_minutes=least, too_short=minutes < least,
                          verified_at=order.arrived_at + timedelta(minutes=1) if verification == "verified" else None,
                          verify_attempts=2 if verification == "unverified" else 1))
        payment = _payment(session, order, tz, used, rng)
        if payment is not None:
            session.add(payment)
    session.flush()
    return len(orders)
