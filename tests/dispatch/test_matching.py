"""The matcher's SQL prefilter picks exactly what reading every technician and sorting them would pick."""
from __future__ import annotations

import math

from hypothesis import given, note, strategies as st
from sqlalchemy import delete

from dispatch.geo import EARTH_RADIUS_KM, bounding_box, distance_km
from dispatch.matching import BUSY_STATUSES, candidates
from models import OfferAttempt, Order, Resident, Technician, utcnow
from tests import people
from tests.hypothesis_profiles import fuzz_settings

# Origins: the banner, a resident without coordinates, next to the north pole, next to the antimeridian.
ORIGINS = (people.LINDONG, None, (89.95, 10.0), (10.0, 179.99))
# Near misses the SQL LIKE lets through and the exact check must refuse (SQLite's LIKE ignores case).
NEAR_MISSES = ("housekeeping_plus", "Housekeeping", "housekeepingX", "housekeeping ")
# Degrees per grid step: same building, same street, same town, other provinces, other continents.
SCALES = (0.0, 0.0009, 0.004, 0.01, 0.3, 7.0, 40.0)

# Most technicians qualify, so that most examples have several to put in order; the rest fail one rule each.
RULES = ("ok",) * 10 + ("inactive", "accepted", "arrived", "asked", "other_skill", *NEAR_MISSES)
PLACES = ("grid",) * 6 + ("none", "no_lng")


def _draw(rnd, count: int) -> list[dict]:
    """`count` technicians drawn from a Hypothesis-controlled Random: a rule each, extra skills, a place."""
    return [{"rule": rnd.choice(RULES), "extra_skill": rnd.choice((None, "daily_care", "emergency")),
             "past_order": rnd.choice((None, "completed", "cancelled")),
             # Grid points: (i, j) and (i, -j) are as far as floats allow; equal (i, j, scale) exactly equal.
             "place": (rnd.choice(PLACES), rnd.randint(-8, 8), rnd.randint(-8, 8), rnd.choice(SCALES))}
            for _ in range(count)]


def _spec(raw: dict) -> dict:
    """A technician's row values from the drawn rule."""
    rule = raw["rule"]
    skills = [rule if rule in NEAR_MISSES else "legal_aid" if rule == "other_skill" else "housekeeping"]
    if raw["extra_skill"]:
        skills.insert(0, raw["extra_skill"])
    return {"active": rule != "inactive", "skills": skills, "place": raw["place"], "asked": rule == "asked",
            "order": rule if rule in BUSY_STATUSES else raw["past_order"]}


def _reference(techs: list[dict], ids: list[int], origin, category: str, radius_km: float) -> list[tuple]:
    """The rules read straight: every technician, exact skill, not busy, not asked; the old sort key."""
    found = []
    for spec, tid in zip(techs, ids):
        if not spec["active"] or category not in spec["skills"] or spec["order"] in BUSY_STATUSES or spec["asked"]:
            continue
        pos = spec["pos"]
        d = distance_km(origin[0], origin[1], *pos) if origin and pos and pos[1] is not None else None
        found.append((tid, d, d is not None and d <= radius_km))
    found.sort(key=lambda c: (not c[2], c[1] is None, c[1] or 0.0, c[0]))
    return found


def _position(origin, place):
    kind, i, j, scale = place
    base = origin or people.LINDONG
    if kind == "none":
        return None
    if kind == "no_lng":
        return (base[0], None)
    lat = max(-89.0, min(89.0, base[0] + i * scale))
    lng = (base[1] + j * scale + 180.0) % 360.0 - 180.0  # wrap: across the antimeridian from the origin
    return (lat, lng)


def _arrange(db, origin, techs, category):
    """Fresh rows for one example; returns the order and the technicians' ids in the same order."""
    for model in (OfferAttempt, Order, Technician, Resident):
        db.execute(delete(model))
    resident = Resident(name="王秀英", lat=origin[0] if origin else None, lng=origin[1] if origin else None)
    order = Order(code="100200", category=category, resident=resident, created_at=utcnow())
    db.add(order)
    rows = []
    for n, spec in enumerate(techs):
        spec["pos"] = pos = _position(origin, spec["place"])
        rows.append(Technician(name=f"技师{n}", phone=f"+861380000{n:04d}", skills=";".join(spec["skills"]),
                               lat=pos[0] if pos else None, lng=pos[1] if pos else None, active=spec["active"]))
    db.add_all(rows)
    db.flush()
    for n, (spec, tech) in enumerate(zip(techs, rows)):
        if spec["order"]:
            db.add(Order(code=f"3{n:05d}", category=category, resident=resident, technician_id=tech.id,
                         status=spec["order"], created_at=utcnow()))
        if spec["asked"]:
            db.add(OfferAttempt(order=order, technician_id=tech.id, sent_at=utcnow(), expires_at=utcnow()))
    db.commit()
    return order, [t.id for t in rows]


def test_fast_matcher_equals_reading_every_technician(db):
    @fuzz_settings()
    @given(origin=st.sampled_from(ORIGINS), rnd=st.randoms(use_true_random=False), count=st.integers(1, 60),
           radius_km=st.sampled_from((0.5, 3.0, 50.0)), limit=st.sampled_from((None, 1, 2, 3, 30)))
    def check(origin, rnd, count, radius_km, limit):
        techs, category = [_spec(raw) for raw in _draw(rnd, count)], "housekeeping"
        order, ids = _arrange(db, origin, techs, category)
        expected = _reference(techs, ids, origin, category, radius_km)[:limit]
        got = [(c.technician.id, c.distance_km, c.inside_radius) for c in candidates(db, order, radius_km, limit)]
        note(f"technicians {techs}\nexpected {expected}\ngot {got}")
        assert got == expected

    check()


def test_limit_returns_the_head_of_the_full_list(db):
    order = Order(code="100200", category="housekeeping", resident=people.resident(db), created_at=utcnow())
    db.add(order)
    db.commit()
    for n, km in enumerate((40.0, 2.0, 0.5, 9.0, 2.0)):
        people.technician(db, f"技师{n}", f"+86138000000{n:02d}", km_north=km)
    full = candidates(db, order, 3.0)
    assert [c.technician.id for c in candidates(db, order, 3.0, limit=3)] == [c.technician.id for c in full[:3]]


def test_equal_distances_go_to_the_lower_id(db):
    order = Order(code="100200", category="housekeeping", resident=people.resident(db), created_at=utcnow())
    db.add(order)
    db.commit()
    first = people.technician(db, "先登记", "+8613800000001", km_north=1.0)
    people.technician(db, "后登记", "+8613800000002", km_north=1.0)
    assert [c.technician.id for c in candidates(db, order, 3.0, limit=1)] == [first.id]


def test_a_busy_order_without_a_technician_hides_nobody(db):
    resident = people.resident(db)
    order = Order(code="100200", category="housekeeping", resident=resident, created_at=utcnow())
    db.add_all([order, Order(code="100201", category="housekeeping", resident=resident, status="accepted",
                             created_at=utcnow())])
    db.commit()
    tech = people.technician(db, "空闲", "+8613800000001")
    assert [c.technician.id for c in candidates(db, order, 3.0, limit=1)] == [tech.id]


def test_far_technician_is_found_by_widening_when_nobody_is_near(db):
    order = Order(code="100200", category="housekeeping", resident=people.resident(db), created_at=utcnow())
    db.add(order)
    db.commit()
    far = people.technician(db, "远处", "+8613800000001", km_north=900.0)
    found = candidates(db, order, 3.0, limit=1)
    assert [c.technician.id for c in found] == [far.id] and not found[0].inside_radius


def _destination(lat: float, lng: float, km: float, bearing: float) -> tuple[float, float]:
    """The point `km` away on `bearing` degrees, by the spherical direct formula."""
    d, b, p1, l1 = km / EARTH_RADIUS_KM, math.radians(bearing), math.radians(lat), math.radians(lng)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


def _placed_technician(db, name, phone, km, bearing) -> Technician:
    lat, lng = _destination(*people.LINDONG, km, bearing)
    row = Technician(name=name, phone=phone, skills="housekeeping", lat=lat, lng=lng)
    db.add(row)
    db.commit()
    return row


def test_a_technician_in_the_corner_of_the_box_does_not_beat_a_nearer_one_just_outside_it(db):
    order = Order(code="100200", category="housekeeping", resident=people.resident(db), created_at=utcnow())
    db.add(order)
    db.commit()
    _placed_technician(db, "框角", "+8613800000001", 4.0, 45.0)  # inside the 3 km box, 4 km away
    nearer = _placed_technician(db, "框外", "+8613800000002", 3.2, 0.0)  # just north of the box
    assert [c.technician.id for c in candidates(db, order, 3.0, limit=1)] == [nearer.id]


def test_bounding_box_contains_every_point_of_the_circle():
    lat, lng, km = 60.0, 119.0, 500.0
    box = bounding_box(lat, lng, km)
    for bearing in range(360):
        p_lat, p_lng = _destination(lat, lng, km, bearing)
        assert box[0] <= p_lat <= box[1] and box[2] <= p_lng <= box[3], bearing


def test_bounding_box_gives_up_at_a_pole_and_the_antimeridian():
    assert bounding_box(89.99, 10.0, 50.0) is None
    assert bounding_box(10.0, 179.99, 50.0) is None
