"""Orders, residents and page readers shared by the console's orders-board tests, and the dispatcher's login."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Order, OrderEvent, utcnow
from tests.orders import walk_to

T1, T2 = "+8613800000001", "+8613800000002"
UNKNOWN = "+8613512345678"


def _order(db, resident=None, status="pending", category="housekeeping", code="400001", tech=None,
           minutes_ago=5, **values) -> Order:
    order = Order(code=code, category=category, resident_id=resident.id if resident else None,
                  technician_id=tech.id if tech else None,
                  created_at=utcnow() - timedelta(minutes=minutes_ago), **values)
    db.add(order)
    walk_to(db, order, status)
    db.commit()
    return order


def _codes(html: str) -> list[str]:
    return re.findall(r'data-order-code="(\d{6})"', html)


def _flashes(html: str) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', html)


def _events(db, order, kind) -> list[OrderEvent]:
    db.expire_all()
    return list(db.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.kind == kind)))


@pytest.fixture
def dispatcher(staff):
    """A logged-in dispatcher (user name dispatcher-user)."""
    return staff.login("dispatcher")
