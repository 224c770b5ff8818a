"""Cases, access-log readers and the duty officer's login shared by the console's case-page tests."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AccessLog, Case, case_event, utcnow
from tests.webhooks.child_calls import CALLER, staff as child_line_chain

MASKED_CALLER = "+86****1234"


@pytest.fixture
def settings(settings):
    """Alert rounds one second apart, so a test can see whether the next round goes out."""
    return settings.with_overrides(alert_repeat_seconds=3, alert_max_repeats=2)  # > a burst worker run under load


@pytest.fixture
def chain(db):
    return child_line_chain(db)


@pytest.fixture
def officer(staff):
    return staff.login("duty_officer", "zhang")


def make_case(db, code: str, status: str = "answered", caller: str = CALLER, minutes_ago: int = 0) -> Case:
    case = Case(code=code, status=status, caller=caller, call_sid="CA" + code.rjust(32, "0"),
                created_at=utcnow() - timedelta(minutes=minutes_ago))
    db.add(case)
    case_event(db, case, "call", "incoming call")
    db.commit()
    return case


def access_rows(db, **where) -> list[AccessLog]:
    db.expire_all()
    query = select(AccessLog).order_by(AccessLog.id)
    for column, value in where.items():
        query = query.where(getattr(AccessLog, column) == value)
    return list(db.scalars(query))


def ack(client, code: str):
    return client.post(f"/console/cases/{code}/ack", data={"csrf_token": client.csrf}, follow_redirects=True)
