"""The arrival clock: an accepted order not `arrived` in SLA_ARRIVAL_MINUTES reminds the technician and alerts staff."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from models import Message
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.orders import call_in, only_order

TECH = "+8613800000001"
OFFICER = "+8613804760001"
SLA_SECONDS = 1.2


@pytest.fixture
def settings(settings):
    """A 1.2-second arrival clock, so the test can watch it run out."""
    return settings.with_overrides(sla_arrival_minutes=SLA_SECONDS / 60)


@pytest.fixture
def accepted(tw, db, run_worker):
    """A housekeeping order called in and accepted by the only technician."""
    people.resident(db)
    people.technician(db, "张师傅", TECH)
    people.officer(db, "王海燕", OFFICER)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="1")
    run_worker()
    return only_order(db)


def _keys(db) -> list[str]:
    db.expire_all()
    return [m.key for m in db.scalars(select(Message).where(Message.direction == "outbound")) if m.key]


def test_late_arrival_reminds_the_technician_and_alerts_on_duty_staff(accepted, db, run_worker, api):
    time.sleep(SLA_SECONDS + 0.3)
    run_worker()
    keys = _keys(db)
    assert f"sla-reminder:{accepted.id}" in keys
    assert any(k.startswith(f"sla-alert:{accepted.id}:") for k in keys)
    assert api(f"/api/orders/{accepted.code}").json["sla_breached"] is True


def test_arrival_in_time_stops_the_clock(accepted, tw, db, run_worker, api):
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="到达")
    time.sleep(SLA_SECONDS + 0.3)
    run_worker()
    assert not any(k.startswith("sla-") for k in _keys(db))
    assert api(f"/api/orders/{accepted.code}").json["sla_breached"] is False


def test_completed_order_records_whether_the_promise_was_kept(accepted, tw, api):
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="到达")
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="完成")
    assert api(f"/api/orders/{accepted.code}").json["promise_kept"] is True


def test_completed_after_the_deadline_records_the_promise_broken(accepted, tw, api):
    time.sleep(SLA_SECONDS + 0.3)
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="到达")
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="完成")
    assert api(f"/api/orders/{accepted.code}").json["promise_kept"] is False


def test_a_lost_arrival_check_is_recovered_by_the_reconciler(accepted, app, db, run_worker):
    app.extensions["hotline"].queue.connection.flushdb()  # Redis lost every scheduled job
    time.sleep(SLA_SECONDS + 0.3)
    run_worker()
    assert f"sla-reminder:{accepted.id}" in _keys(db)
