"""Dispatch through the RQ worker: which technicians are offered an order, nearest first."""
from __future__ import annotations

import pytest

from dispatch.matching import candidates
from models import Order, utcnow
from tests import people
from tests.dispatch.dispatch_helpers import T1, T2, T3, T4


def _names(cands):
    return [c.technician.name for c in cands]


def _unsent_order(db, resident, category="housekeeping"):
    order = Order(code="100200", category=category, resident_id=resident.id, created_at=utcnow())
    db.add(order)
    db.commit()
    return order


# --- matching -----------------------------------------------------------------------------------

def test_only_active_technicians_with_the_category_as_a_skill_are_candidates(db):
    order = _unsent_order(db, people.resident(db))
    people.technician(db, "有技能", T1, skills="daily_care;housekeeping")
    people.technician(db, "无技能", T2, skills="daily_care;companionship")
    people.technician(db, "停用", T3, active=False)
    people.technician(db, "近似技能", T4, skills="housekeeping_plus")
    assert _names(candidates(db, order, 3.0)) == ["有技能"]


def test_technician_with_an_accepted_or_arrived_order_is_skipped(db):
    resident = people.resident(db)
    order = _unsent_order(db, resident)
    people.technician(db, "空闲", T1, km_north=2.0)
    on_way = people.technician(db, "已接单", T2, km_north=0.5)
    on_site = people.technician(db, "已到达", T3, km_north=0.6)
    done = people.technician(db, "已完成", T4, km_north=0.7)
    for code, tech, status in (("200001", on_way, "accepted"), ("200002", on_site, "arrived"),
                               ("200003", done, "completed")):
        db.add(Order(code=code, category="daily_care", resident_id=resident.id, technician_id=tech.id,
                     status=status, created_at=utcnow()))
    db.commit()
    assert _names(candidates(db, order, 3.0)) == ["已完成", "空闲"]


def test_candidates_are_nearest_first(db):
    order = _unsent_order(db, people.resident(db))
    people.technician(db, "二公里", T1, km_north=2.0)
    people.technician(db, "半公里", T2, km_north=0.5)
    people.technician(db, "一公里", T3, km_north=-1.0)
    found = candidates(db, order, 3.0)
    assert _names(found) == ["半公里", "一公里", "二公里"]
    assert found[0].distance_km == pytest.approx(0.5, abs=0.01)


def test_inside_the_service_radius_before_outside_and_unplaceable_technician_last(db):
    order = _unsent_order(db, people.resident(db))
    nowhere = people.technician(db, "无坐标", T1)
    nowhere.lat = nowhere.lng = None
    db.commit()
    people.technician(db, "圈外", T2, km_north=8.0)
    people.technician(db, "圈内", T3, km_north=2.5)
    found = candidates(db, order, 3.0)
    assert _names(found) == ["圈内", "圈外", "无坐标"]
    assert [c.inside_radius for c in found] == [True, False, False]


def test_service_radius_setting_decides_who_is_inside(db):
    order = _unsent_order(db, people.resident(db))
    people.technician(db, "二公里半", T1, km_north=2.5)
    assert candidates(db, order, 3.0)[0].inside_radius
    assert not candidates(db, order, 1.0)[0].inside_radius
