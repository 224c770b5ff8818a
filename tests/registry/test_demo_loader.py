"""The demo loader: loads once, only into empty registries, with a resident, technicians and a week of rota."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hotline.registry.demo import DEMO_RESIDENT_PHONE, DEMO_ROTA_DAYS, DEMO_TECHNICIAN_PHONE, load_demo
from models import Technician, on_duty_tiers, resident_by_phone, technician_by_phone
from tests.registry.import_helpers import (
    OFFICERS,
    SHANGHAI,
    counts,
    run,
    session,  # noqa: F401 - fixtures
)

# --- demo --------------------------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)  # 11:00 in Balinzuo


def km(lat1, lng1, lat2, lng2):
    dlat, dlng = math.radians(lat2 - lat1), math.radians(lng2 - lng1)
    h = math.sin(dlat / 2) ** 2 + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlng / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def test_demo_loads_once_and_is_idempotent(session):
    assert load_demo(session, SHANGHAI, NOW) is True
    session.commit()
    loaded = counts(session)
    assert load_demo(session, SHANGHAI, NOW) is False
    assert counts(session) == loaded
    assert loaded["Resident"] == 4 and loaded["Technician"] == 6 and loaded["Officer"] == 3


def test_demo_is_not_loaded_when_a_registry_has_data(session):
    run(session, "officers", OFFICERS)
    assert load_demo(session, SHANGHAI, NOW) is False
    assert counts(session)["Resident"] == 0


def test_demo_constants_name_a_mobile_resident_and_an_active_technician(session):
    load_demo(session, SHANGHAI, NOW)
    resident = resident_by_phone(session, DEMO_RESIDENT_PHONE)
    assert resident.primary_phone == DEMO_RESIDENT_PHONE
    assert any(p.phone.startswith("+86476") for p in resident.phones)  # the landline
    assert technician_by_phone(session, DEMO_TECHNICIAN_PHONE).active


def test_demo_technicians_are_near_the_first_resident_and_one_is_inactive(session):
    load_demo(session, SHANGHAI, NOW)
    home = resident_by_phone(session, DEMO_RESIDENT_PHONE)
    technicians = list(session.scalars(select(Technician)))
    assert all(0.25 <= km(home.lat, home.lng, t.lat, t.lng) <= 6.0 for t in technicians)
    assert sum(not t.active for t in technicians) == 1


@pytest.mark.parametrize("local_hour", [0, 11, 12, 23])
def test_demo_rota_covers_a_week_in_two_tiers_on_both_lines(session, local_hour):
    load_demo(session, SHANGHAI, NOW)
    at = datetime(2026, 12, 1, local_hour, 30, tzinfo=SHANGHAI)
    for day in range(DEMO_ROTA_DAYS):
        for line in ("elderly", "child"):
            tiers = on_duty_tiers(session, line, at + timedelta(days=day))
            assert len(tiers) == 2 and tiers[1][0].role == "supervisor"
    assert on_duty_tiers(session, "elderly", at + timedelta(days=DEMO_ROTA_DAYS)) == []
