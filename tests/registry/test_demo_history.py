"""The demo's past service: reports have something to show, and nothing in it wakes the worker."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from dispatch.reconcile import overdue_work
from hotline.registry.demo import load_demo
from hotline.registry.demo_history import CASES, OPEN_CASES, ORDERS, load_history
from hotline.reports import Period, child_figures, elderly_figures
from models import ORDER_OPEN, Case, Order, utcnow


def _load(db, settings):
    load_demo(db, settings.tz, utcnow())
    db.commit()
    assert load_history(db, utcnow()) == ORDERS
    db.commit()


def test_history_fills_six_months_of_closed_orders_and_cases(db, settings):
    _load(db, settings)
    assert db.scalar(select(func.count(Order.id))) == ORDERS
    assert db.scalar(select(func.count(Order.id)).where(Order.status.in_(ORDER_OPEN))) == 0
    assert db.scalar(select(func.count(Case.id)).where(Case.status == "closed")) == CASES


def test_history_gives_the_reports_figures(db, settings):
    _load(db, settings)
    today = utcnow().astimezone(settings.tz).date()
    period = Period(date(today.year - 1, today.month, 1), today, settings.tz)
    elderly = elderly_figures(db, period, settings.sla_arrival_minutes)
    assert elderly.completed > 0.8 * ORDERS
    assert sum(elderly.ratings.values()) > 0
    assert sum(child_figures(db, period).outcomes.values()) == CASES + OPEN_CASES


def test_nothing_in_history_is_due_for_the_worker(db, settings):
    _load(db, settings)
    due = overdue_work(db, utcnow(), settings)
    assert due == [], due

