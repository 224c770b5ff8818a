"""Benchmark 3: nearest free skilled technician (dispatch.matching.candidates) as technicians grow 1k → 100k."""
from __future__ import annotations

import random
import time

from sqlalchemy import delete, select

from dispatch.geo import bounding_box, distance_km
from dispatch.matching import BUSY_STATUSES, candidates
from models import OfferAttempt, Order, Technician, make_engine, make_session_factory, set_status, utcnow

from . import seed
from .stats import ms, pct, table, verdict

TARGET_MS = 5.0
RADIUS_KM = 3.0
CATEGORIES = ("daily_care", "housekeeping", "companionship", "legal_aid", "emergency")


def prefiltered_first(session, order: Order, radius_km: float) -> Technician | None:
    """A prototype, not project code: the same rules with a bounding box in SQL before any distance."""
    busy = select(Order.technician_id).where(Order.status.in_(BUSY_STATUSES), Order.technician_id.is_not(None))
    asked = select(OfferAttempt.technician_id).where(OfferAttempt.order_id == order.id)
    lat, lng = order.resident.lat, order.resident.lng
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    rows = session.execute(
        select(Technician.id, Technician.skills, Technician.lat, Technician.lng)
        .where(Technician.active.is_(True), Technician.skills.contains(order.category),
               Technician.id.not_in(busy), Technician.id.not_in(asked),
               Technician.lat.between(min_lat, max_lat), Technician.lng.between(min_lng, max_lng))).all()
    inside = sorted((distance_km(lat, lng, r.lat, r.lng), r.id) for r in rows
                    if order.category in r.skills.split(";"))
    inside = [c for c in inside if c[0] <= radius_km]
    return session.get(Technician, inside[0][1]) if inside else None


def _full(session, order: Order) -> tuple[int | None, int]:
    found = candidates(session, order, RADIUS_KM)
    return (found[0].technician.id if found and found[0].inside_radius else None), len(found)


def _proto(session, order: Order) -> int | None:
    picked = prefiltered_first(session, order, RADIUS_KM)
    return picked.id if picked else None


def _orders(session, count: int, rng: random.Random) -> list[int]:
    residents = seed.resident_ids(session, 20_000)
    ids = []
    for _ in range(count):
        order = Order(code=f"{rng.randrange(10**6):06d}", category=rng.choice(CATEGORIES),
                      resident_id=rng.choice(residents), created_at=utcnow(), status="pending")
        session.add(order)
        session.flush()
        ids.append(order.id)
    session.commit()
    return ids


def _time(factory, order_ids: list[int], fn) -> tuple[list[float], list]:
    times, picks = [], []
    with factory() as session:
        for oid in order_ids:
            session.expire_all()
            order = session.get(Order, oid)
            _ = order.resident.lat  # the order and its resident are loaded by the job before matching
            started = time.perf_counter()
            picked = fn(session, order)
            times.append(time.perf_counter() - started)
            picks.append(picked)
            session.rollback()
    return times, picks


def run(servers, sizes: dict, smoke: bool) -> dict:
    """Time candidates() for random orders at each technician count; restore the standard count after."""
    engine = make_engine(servers.database_url)
    factory = make_session_factory(engine)
    rng = random.Random(3)
    rows, results = [], {}
    try:
        for n in sizes["match_sizes"]:
            with factory() as session:
                seed.replace_technicians(session, n)
                order_ids = _orders(session, 5 if smoke else (20 if n >= 100_000 else 60), rng)
            full, picks = _time(factory, order_ids, _full)
            proto, proto_picks = _time(factory, order_ids, _proto)
            same = sum(1 for c, p in zip(picks, proto_picks) if c[0] == p)
            found = sum(c[1] for c in picks) / max(1, len(picks))
            results[n] = pct(full, 50)
            rows.append([f"{n:,}", ms(pct(full, 50)), ms(pct(full, 95)), f"{found:.0f}", ms(pct(proto, 50)),
                         ms(pct(proto, 95)), f"{pct(full, 50) / pct(proto, 50):.0f}×", f"{same}/{len(picks)}"])
            with factory() as session:
                session.execute(delete(Order).where(Order.id.in_(order_ids)))
                session.commit()
        with factory() as session:
            seed.replace_technicians(session, sizes["technicians"])
            counts = seed.counts(session)
    finally:
        engine.dispose()
    ns = sizes["match_sizes"]
    growth = [f"{ns[i]:,} → {ns[i + 1]:,}: ×{results[ns[i + 1]] / results[ns[i]]:.1f} time for ×{ns[i + 1] / ns[i]:.0f} "
              f"technicians" for i in range(len(ns) - 1)]
    target_n = 10_000 if 10_000 in results else ns[-1]
    lines = [f"{counts['residents']:,} residents in the database; each match = `dispatch.matching.candidates()` for one "
             f"pending order (random resident and category, radius {RADIUS_KM:g} km), its order and resident "
             "already loaded, as in `offer_order`. Prototype column: the same rules with a SQL bounding box "
             "(dispatch/geo.bounding_box) before great-circle distance, bench-only code measured side by side; "
             "'same pick' = same nearest technician inside the radius.", ""]
    lines += table(["technicians", "p50 ms", "p95 ms", "candidates returned", "prototype p50 ms", "prototype p95 ms",
                    "speed-up", "same pick"], rows)
    lines += ["", "Growth: " + "; ".join(growth) + " (linear: every active skilled technician is loaded as an ORM "
              "object and its distance computed in Python, then all are sorted)."]
    value = results[target_n]
    return {"title": "3. Matching", "lines": lines,
            "targets": [(f"≤ {TARGET_MS:g} ms per match at {target_n:,} technicians", f"{ms(value)} ms (p50)",
                         verdict(value * 1000 <= TARGET_MS))]}
