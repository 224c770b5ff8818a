"""Who gets an order: active technicians with the skill, not busy, not yet asked, nearest first."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import NamedTuple, cast

from sqlalchemy import Connection, Select, String, bindparam, literal, select
from sqlalchemy.orm import Session

from models import ORDER_WORKING, OfferAttempt, Order, Technician

from .geo import bounding_box, distance_km

BUSY_STATUSES = ORDER_WORKING
# The first search box is never smaller than this, so a tiny service radius does not cost many widenings.
MIN_STEP_KM = 1.0
# Beyond this a box holds most of any realistic registry: search everyone instead of widening further.
MAX_STEP_KM = 2000.0
# The box is drawn this much (relatively) wider than the circle that is cut, so that float rounding in
# degrees can never drop a technician whose computed distance is exactly on the circle.
BOX_PAD = 1e-6
# Rows fetched per round trip when walking technicians without a place by id.
BATCH = 500
LIKE_ESCAPE = "/"


class TechnicianCard(NamedTuple):
    """What an offer needs of a technician, read with the match itself (no second query for the row)."""

    id: int
    name: str
    phone: str


@dataclass(frozen=True)
class Candidate:
    """A technician who may be offered the order, and how far away they are (None = unknown)."""

    technician: TechnicianCard
    distance_km: float | None
    inside_radius: bool


def candidates(session: Session, order: Order, radius_km: float, limit: int | None = None) -> list[Candidate]:
    """Candidates for `order`: inside the radius before outside, each group nearest first (ties by id).

    With `limit`, only the first `limit` of that same list, found without reading every technician.
    """
    if not order.category or (limit is not None and limit <= 0):
        return []  # an empty category is nobody's skill
    resident = order.resident
    located = resident is not None and resident.lat is not None and resident.lng is not None
    # `located` has checked resident, lat and lng are not None.
    origin = (cast(float, resident.lat), cast(float, resident.lng)) if located and resident is not None else None
    params = {"order_id": order.id, "pattern": _pattern(order.category)}
    # Plain rows on the session's connection: the ORM's result machinery costs more than these queries. What
    # the caller changed (a declined offer) is flushed first, as the ORM's autoflush would.
    session.flush()
    conn = session.connection()
    placed = _placed(conn, params, order.category, origin, radius_km, limit) if origin else []
    wanted = None if limit is None else limit - len(placed)
    # Unknown distances go last: a technician we cannot place should not beat one we know is close.
    unplaced = _unplaced(conn, params, order.category, origin is None, wanted) if wanted is None or wanted > 0 else []
    return ([Candidate(card, d, d <= radius_km) for d, _, card in placed]
            + [Candidate(card, None, False) for card in unplaced])


def _pattern(category: str) -> str:
    """LIKE pattern for ";category;" anywhere in ";skills;", the category's own % and _ escaped."""
    escaped = "".join(LIKE_ESCAPE + ch if ch in f"%_{LIKE_ESCAPE}" else ch for ch in category)
    return f"%;{escaped};%"


@cache
def _statements() -> dict[str, Select]:
    """The matcher's queries, built once per process and reused: SQLAlchemy then skips building and keying them.

    Built on first use, not at import time. Busy and asked technicians are excluded with uncorrelated
    NOT IN subqueries, which the database evaluates once per query (a hashed subplan on PostgreSQL)
    instead of once per technician in the box, whatever its statistics say about the tables.
    """
    busy = select(Order.technician_id).where(Order.status.in_(BUSY_STATUSES), Order.technician_id.is_not(None))
    asked = select(OfferAttempt.technician_id).where(OfferAttempt.order_id == bindparam("order_id"))
    # ";a;b;" contains ";a;" exactly when a is one of the codes; SQLite's LIKE ignores ASCII case,
    # so _has() confirms each row in Python.
    coded = literal(";", String) + Technician.skills + literal(";", String)
    free = (select(Technician.id, Technician.name, Technician.phone, Technician.skills, Technician.lat, Technician.lng)
            .where(Technician.active.is_(True), coded.like(bindparam("pattern"), escape=LIKE_ESCAPE),
                   Technician.id.not_in(busy), Technician.id.not_in(asked)))
    unplaced = free.where(Technician.id > bindparam("after")).order_by(Technician.id).limit(BATCH)
    return {
        "box": free.where(Technician.lat.between(bindparam("min_lat"), bindparam("max_lat")),
                          Technician.lng.between(bindparam("min_lng"), bindparam("max_lng"))),
        "placed": free.where(Technician.lat.is_not(None), Technician.lng.is_not(None)),
        "everyone": unplaced,
        "unplaced": unplaced.where(Technician.lat.is_(None) | Technician.lng.is_(None)),
    }


def _has(skills: str, category: str) -> bool:
    """The same test as Technician.has_skill, on the raw column."""
    return category in skills.split(";")


def _placed(conn: Connection, params: dict, category: str, origin: tuple[float, float], radius_km: float,
            limit: int | None) -> list[tuple[float, int, TechnicianCard]]:
    """(distance, id, card) of located candidates, nearest first: the first `limit` of them, or all."""
    lat, lng = origin
    step = max(radius_km, MIN_STEP_KM)
    while limit is not None and step <= MAX_STEP_KM:
        box = bounding_box(lat, lng, step * (1 + BOX_PAD))
        if box is None:
            break
        rows = conn.execute(_statements()["box"], {**params, "min_lat": box[0], "max_lat": box[1],
                                                      "min_lng": box[2], "max_lng": box[3]}).all()
        # Only those within `step` are certain: someone outside the box is farther than `step`, but may be
        # nearer than a box corner.
        found = sorted(c for c in _distances(rows, category, origin) if c[0] <= step)
        if len(found) >= limit:
            return found[:limit]
        step *= 2
    rows = conn.execute(_statements()["placed"], params).all()
    return sorted(_distances(rows, category, origin))[:limit]


def _distances(rows, category: str, origin: tuple[float, float]) -> list[tuple[float, int, TechnicianCard]]:
    """(great-circle distance, id, card) of the rows that really have the skill."""
    return [(distance_km(origin[0], origin[1], r.lat, r.lng), r.id, TechnicianCard(r.id, r.name, r.phone))
            for r in rows if _has(r.skills, category)]


def _unplaced(conn: Connection, params: dict, category: str, everyone: bool,
              wanted: int | None) -> list[TechnicianCard]:
    """Candidates without a distance (all of them when the resident has no place), by id."""
    stmt = _statements()["everyone" if everyone else "unplaced"]
    found: list[TechnicianCard] = []
    after = 0
    while True:  # by id in batches: the skill re-check means SQL cannot apply `wanted` itself
        rows = conn.execute(stmt, {**params, "after": after}).all()
        found += [TechnicianCard(r.id, r.name, r.phone) for r in rows if _has(r.skills, category)]
        if (wanted is not None and len(found) >= wanted) or len(rows) < BATCH:
            return found[:wanted]
        after = rows[-1].id
