"""Six months of fictional past service, so a new user's reports, board and case list are not empty.

Loaded by `make run` together with the demo registry, never into a database that already had data.
Every past order is closed and its satisfaction call already made, and every past case is closed with its
tasks done (demo_cases.py), so nothing here wakes the worker: no offer, no reminder, no callback and no alert
comes from history; the few open cases' tasks fall due after the demo starts. Every event carries the time
it happened, and every text the console shows is Chinese.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.registry.demo_cases import load_case_workers, past_case
from models import CATEGORY_CODES, ORDER_TRANSITIONS, Officer, Order, OrderStatus, Resident, Technician, add_event

DAYS = 180
ORDERS = 240
CASES = 30  # closed
OPEN_CASES = 3  # two fresh ones with tasks still due, one open past its deadline
# A closed case's tasks (up to 7 days) and its close come well before today.
CASE_MIN_AGE_DAYS = 10
# Category weights as a pilot sees them: daily care and repairs most, emergencies few.
_WEIGHTS = {"daily_care": 35, "housekeeping": 35, "companionship": 12, "legal_aid": 8, "emergency": 10}


def load_history(session: Session, now: datetime, seed: int = 2026) -> int:
    """Add closed past orders, case workers and past cases (caller commits); returns how many orders were added."""
    rng = random.Random(seed)
    residents = list(session.scalars(select(Resident).where(Resident.active.is_(True))))
    technicians = list(session.scalars(select(Technician).where(Technician.active.is_(True))))
    officers = list(session.scalars(select(Officer).where(Officer.active.is_(True))))
    if not residents or not technicians:
        return 0
    categories = [c for c in CATEGORY_CODES if c in _WEIGHTS]
    for n in range(ORDERS):
        created = now - timedelta(days=rng.uniform(1, DAYS), minutes=rng.uniform(0, 600))
        category = rng.choices(categories, weights=[_WEIGHTS[c] for c in categories])[0]
        skilled = [t for t in technicians if category in (t.skills or "").split(";")] or technicians
        _past_order(session, rng, n, created, category, rng.choice(residents), rng.choice(skilled))
    if officers:
        workers = load_case_workers(session, now - timedelta(days=DAYS + 1))
        for _ in range(CASES):
            created = now - timedelta(days=rng.uniform(CASE_MIN_AGE_DAYS, DAYS))
            past_case(session, rng, created, rng.choice(officers), workers, now)
        for days in (rng.uniform(1, 2), rng.uniform(2, 3), rng.uniform(35, 40)):
            past_case(session, rng, now - timedelta(days=days), rng.choice(officers), workers, now, still_open=True)
    return ORDERS


def _minutes(rng: random.Random, low: float, mode: float, high: float) -> timedelta:
    return timedelta(minutes=rng.triangular(low, high, mode))


def _past_order(session, rng, n, created, category, resident, tech) -> None:
    order = Order(code=f"{900000 + n:06d}", category=category, resident=resident,
                  caller_phone=resident.primary_phone, created_at=created, status=OrderStatus.PENDING)
    session.add(order)
    add_event(session, order, ORDER_TRANSITIONS[OrderStatus.PENDING].event, "电话下单", resident.name).at = created
    order.offered_at = created + timedelta(seconds=rng.uniform(2, 20))
    if rng.random() < 0.06:  # nobody took it: staff dispatched it by phone, or it was cancelled
        order.escalated_at = order.offered_at + timedelta(minutes=15)
        add_event(session, order, ORDER_TRANSITIONS[OrderStatus.ESCALATED].event, "无人接单，转人工派单",
                  "系统").at = order.escalated_at
    if rng.random() < 0.05:
        order.status, order.cancelled_at = OrderStatus.CANCELLED, created + _minutes(rng, 5, 20, 60)
        add_event(session, order, ORDER_TRANSITIONS[OrderStatus.CANCELLED].event, "居民取消",
                  resident.name).at = order.cancelled_at
        return
    order.technician = tech
    order.accepted_at = order.offered_at + _minutes(rng, 0.5, 2, 12)
    order.arrived_at = order.accepted_at + _minutes(rng, 4, 9, 30)
    order.completed_at = order.arrived_at + _minutes(rng, 15, 35, 120)
    order.status = OrderStatus.COMPLETED
    order.promise_kept = (order.arrived_at - order.accepted_at) <= timedelta(minutes=15)
    for status, at in ((OrderStatus.ACCEPTED, order.accepted_at), (OrderStatus.ARRIVED, order.arrived_at),
                       (OrderStatus.COMPLETED, order.completed_at)):
        add_event(session, order, ORDER_TRANSITIONS[status].event, tech.name, tech.name).at = at
    order.satisfaction_call_at = order.completed_at + timedelta(minutes=10)
    answer = rng.random()
    if answer < 0.85:
        order.rating = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
        order.rated_at = order.satisfaction_call_at + timedelta(minutes=1)

