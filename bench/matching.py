"""Benchmark 3: nearest free skilled technician (dispatch.matching.candidates) as technicians grow 1k → 100k."""
from __future__ import annotations

import random
import time

from sqlalchemy import delete

from dispatch.matching import candidates
from models import Order, make_engine, make_session_factory, utcnow

from . import seed
from .stats import ms, pct, table, verdict

TARGET_MS = 5.0
RADIUS_KM = 3.0
CATEGORIES = ("daily_care", "housekeeping", "companionship", "legal_aid", "emergency")


def _full(session, order: Order) -> tuple[int | None, int]:
    found = candidates(session, order, RADIUS_KM)
    return (found[0].technician.id if found else None), len(found)


def _first(session, order: Order) -> tuple[int | None, int]:
    found = candidates(session, order, RADIUS_KM, limit=1)
    return (found[0].technician.id if found else None), len(found)


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
    """Time candidates() (first only, and the whole list) for random orders at each technician count."""
    engine = make_engine(servers.database_url)
    factory = make_session_factory(engine)
    rng = random.Random(3)
    rows, results = [], {}
    try:
        for n in sizes["match_sizes"]:
            with factory() as session:
                seed.replace_technicians(session, n)
                order_ids = _orders(session, 5 if smoke else (20 if n >= 100_000 else 60), rng)
            first, picks = _time(factory, order_ids, _first)
            full, full_picks = _time(factory, order_ids, _full)
            same = sum(1 for p, f in zip(picks, full_picks) if p[0] == f[0])
            found = sum(f[1] for f in full_picks) / max(1, len(full_picks))
            results[n] = pct(first, 50)
            rows.append([f"{n:,}", ms(pct(first, 50)), ms(pct(first, 95)), ms(pct(full, 50)), ms(pct(full, 95)),
                         f"{found:.0f}", f"{same}/{len(picks)}"])
            with factory() as session:
                session.execute(delete(Order).where(Order.id.in_(order_ids)))
                session.commit()
        with factory() as session:
            seed.replace_technicians(session, sizes["technicians"])
            counts = seed.counts(session)
    finally:
        engine.dispose()
    ns = sizes["match_sizes"]
    growth = [f"{ns[i]:,} → {ns[i + 1]:,}: ×{results[ns[i + 1]] / results[ns[i]]:.1f} time "
              f"for ×{ns[i + 1] / ns[i]:.0f} technicians" for i in range(len(ns) - 1)]
    target_n = 10_000 if 10_000 in results else ns[-1]
    lines = [f"{counts['residents']:,} residents in the database; each match = "
             "`dispatch.matching.candidates()` for one "
             f"pending order (random resident and category, radius {RADIUS_KM:g} km), its order and resident "
             "already loaded, as in `offer_order`. 'First' = `limit=1` (what `offer_order` needs: a SQL bounding "
             "box on the (active, lat, lng) index, widened 2× at a time until someone is inside it, then "
             "great-circle distance on those rows only, busy and asked technicians excluded by subqueries run once); "
             "'whole list' = every candidate in order, each with the id, name and phone an offer needs (read in the "
             "same query); 'same pick' = both put the same technician first.", ""]
    lines += table(["technicians", "first p50 ms", "first p95 ms", "whole list p50 ms", "whole list p95 ms",
                    "candidates in the list", "same pick"], rows)
    lines += ["", "Growth of 'first': " + "; ".join(growth) + " (time follows the rows in the search box, not the "
              "registry: a sparse registry costs a few widenings, a dense one more rows in the first box)."]
    value = results[target_n]
    return {"title": "3. Matching", "lines": lines,
            "targets": [(f"≤ {TARGET_MS:g} ms per match at {target_n:,} technicians", f"{ms(value)} ms (p50)",
                         verdict(value * 1000 <= TARGET_MS))]}
