"""A hand-checked month of purchased services (October 2026, Asia/Shanghai) written straight as rows.

Provider 甲 (technicians 甲一, 甲二) and provider 乙 (乙一). Housekeeping cost 30.00元 until 15 October and
35.00元 from 16 October; daily care 40.00元. The Payment rows carry the figures the pricing rules gave:

| order  | provider | day (local)   | category     | visit              | price | paid  | rules' subsidy | claim |
|--------|----------|---------------|--------------|--------------------|-------|-------|----------------|-------|
| 100001 | 甲       | 10-05         | housekeeping | verified           | 3000  | 0     | 3000 (hardship)| 3000  |
| 100002 | 甲       | 10-20         | housekeeping | verified           | 3500  | 1750  | 1750 (50%)     | 1750  |
| 100003 | 甲       | 10-21         | daily_care   | verified           | 4000  | 0     | 2000 (cap left)| 2000  |
| 100004 | 甲       | 10-22         | housekeeping | verified           | 3500  | 2000  | 3500           | 1500  |
| 100005 | 甲       | 10-31 23:30   | housekeeping | verified           | 3500  | 0     | 3500           | 3500  |
| 100006 | 甲       | 10-10         | housekeeping | disputed           | 3000  | 0     | 3000           | apart |
| 100007 | 甲       | 10-12         | housekeeping | verified, too short| 3000  | 1500  | 1500           | apart |
| 100008 | 甲       | 10-25         | daily_care   | unverified         | 4000  | 2000  | 2000           | apart |
| 100009 | 甲       | 10-26         | daily_care   | verified, no pay   | —     | —     | —              | apart |
| 100010 | 甲       | 11-01 00:30   | housekeeping | verified           | 3500  | 0     | 3500           | (Nov) |
| 200001 | 乙       | 10-08         | daily_care   | verified           | 4000  | 2000  | 2000           | 2000  |

Provider 甲, October, counted: 5 visits, price 17500, paid 3750, claim 11750 (order 100004: the rules owe 3500
but only 1500 is left to pay, so the claim is 1500). Provider 乙: 1 visit, 4000, 2000, 2000.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from models import Order, OrderStatus, Payment, Resident, ServiceProvider, Technician, Verification, Visit

TZ = ZoneInfo("Asia/Shanghai")
OCTOBER = date(2026, 10, 1)
NOVEMBER = date(2026, 11, 1)
NOW = datetime(2026, 12, 2, 4, 0, tzinfo=ZoneInfo("UTC"))

#        code,    provider, local completion,   category,     verification, too_short, payment or None
ROWS = (
    ("100001", "甲", (10, 5, 10, 0), "housekeeping", "verified", False, (3000, 0, 3000)),
    ("100002", "甲", (10, 20, 10, 0), "housekeeping", "verified", False, (3500, 1750, 1750)),
    ("100003", "甲", (10, 21, 10, 0), "daily_care", "verified", False, (4000, 0, 2000)),
    ("100004", "甲", (10, 22, 10, 0), "housekeeping", "verified", False, (3500, 2000, 3500)),
    ("100005", "甲", (10, 31, 23, 30), "housekeeping", "verified", False, (3500, 0, 3500)),
    ("100006", "甲", (10, 10, 10, 0), "housekeeping", "disputed", False, (3000, 0, 3000)),
    ("100007", "甲", (10, 12, 10, 0), "housekeeping", "verified", True, (3000, 1500, 1500)),
    ("100008", "甲", (10, 25, 10, 0), "daily_care", "unverified", False, (4000, 2000, 2000)),
    ("100009", "甲", (10, 26, 10, 0), "daily_care", "verified", False, None),
    ("100010", "甲", (11, 1, 0, 30), "housekeeping", "verified", False, (3500, 0, 3500)),
    ("200001", "乙", (10, 8, 10, 0), "daily_care", "verified", False, (4000, 2000, 2000)),
)


@dataclass
class Month:
    """The rows made: providers by short name, orders by code."""

    providers: dict[str, ServiceProvider]
    orders: dict[str, Order]


def load_month(db) -> Month:
    """Insert the providers, technicians, a resident and the month's orders, visits and payments; commits."""
    providers = {short: ServiceProvider(name=f"{short}方养老服务有限公司", contact_name="联系人")
                 for short in ("甲", "乙")}
    db.add_all(providers.values())
    techs = {"甲": Technician(name="甲一", phone="+8613804769001", skills="housekeeping;daily_care"),
             "乙": Technician(name="乙一", phone="+8613804769003", skills="daily_care")}
    resident = Resident(name="测试老人", hardship=True)
    db.add_all([*techs.values(), resident])
    db.flush()
    for short, tech in techs.items():
        tech.provider_id = providers[short].id
    orders = {}
    for code, short, (month, day, hour, minute), category, verification, too_short, pay in ROWS:
        completed = datetime(2026, month, day, hour, minute, tzinfo=TZ)
        order = Order(code=code, category=category, status=OrderStatus.COMPLETED.value, resident=resident,
                      technician=techs[short], created_at=completed - timedelta(hours=2),
                      arrived_at=completed - timedelta(hours=1), completed_at=completed)
        db.add(order)
        db.flush()
        db.add(Visit(order_id=order.id, arrived_at=order.arrived_at, completed_at=completed,
                     verification=Verification(verification).value, minutes=60 if not too_short else 10,
                     min_minutes=30, too_short=too_short))
        if pay is not None:
            db.add(Payment(order_id=order.id, method="cash" if pay[1] else "subsidy_only", paid_fen=pay[1],
                           price_fen=pay[0], subsidy_fen=pay[2], recorded_at=completed))
        orders[code] = order
    db.commit()
    return Month(providers, orders)
