"""Who gets an order: active technicians with the skill, not busy, not yet asked, nearest first."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, String, exists, literal, or_, select
from sqlalchemy.orm import Session

from models import OfferAttempt, Order, Technician

from .geo import bounding_box, distance_km

BUSY_STATUSES = ("accepted", "arrived")
# The first search box is never smaller than this, so a tiny service radius does not cost many widenings.
MIN_STEP_KM = 1.0
# Beyond this a box holds most of any realistic registry: search everyone instead of widening further.
MAX_STEP_KM = 2000.0
# The box is drawn this much (relatively) wider than the circle that is cut, so that float rounding in
# degrees can never drop a technician whose computed distance is exactly on the circle.
BOX_PAD = 1e-6
# Rows fetched per round trip when walking technicians by id, and ids per IN (...) when loading them.
BATCH = 500


@dataclass(frozen=True)
class Candidate:
    """A technician who may be offered the order, and how far away they are (None = unknown)."""

    technician: Technician
    distance_km: float | None
    inside_radius: bool


def candidates(session: Session, order: Order, radius_km: float, limit: int | None = None) -> list[Candidate]:
    """Candidates for `order`: inside the radius before outside, each group nearest first (ties by id).

    With `limit`, only the first `limit` of that same list, found without reading every technician.
    """
    if not order.category or (limit is not None and limit <= 0):
        return []  # an empty category is nobody's skill
    resident = order.resident
    origin = (resident.lat, resident.lng) if resident and resident.lat is not None and resident.lng is not None else None
    placed = _placed(session, order, origin, radius_km, limit) if origin else []
    wanted = None if limit is None else limit - len(placed)
    # Unknown distances go last: a technician we cannot place should not beat one we know is close.
    unplaced = _unplaced(session, order, origin is None, wanted) if wanted is None or wanted > 0 else []
    techs = _load(session, [tid for _, tid in placed] + unplaced)
    # `if tid in techs`: a technician deleted since the first query (another transaction) is simply gone.
    return ([Candidate(techs[tid], d, d <= radius_km) for d, tid in placed if tid in techs]
            + [Candidate(techs[tid], None, False) for tid in unplaced if tid in techs])


def _free(order: Order) -> Select:
    """Id, skills and place of active technicians who may have the skill, are not busy and were not asked."""
    busy = exists().where(Order.technician_id == Technician.id, Order.status.in_(BUSY_STATUSES))
    asked = exists().where(OfferAttempt.technician_id == Technician.id, OfferAttempt.order_id == order.id)
    # ";a;b;" contains ";a;" exactly when a is one of the codes; SQLite's LIKE ignores ASCII case,
    # so _has() confirms each row in Python.
    coded = literal(";", String) + Technician.skills + literal(";", String)
    return (select(Technician.id, Technician.skills, Technician.lat, Technician.lng)
            .where(Technician.active.is_(True), coded.contains(f";{order.category};", autoescape=True),
                   ~busy, ~asked))


def _has(skills: str, category: str) -> bool:
    """The same test as Technician.has_skill, on the raw column."""
    return category in skills.split(";")


def _placed(session: Session, order: Order, origin: tuple[float, float], radius_km: float,
            limit: int | None) -> list[tuple[float, int]]:
    """(distance, id) of located candidates, nearest first: the first `limit` of them, or all."""
    lat, lng = origin
    step = max(radius_km, MIN_STEP_KM)
    while limit is not None and step <= MAX_STEP_KM:
        box = bounding_box(lat, lng, step * (1 + BOX_PAD))
        if box is None:
            break
        rows = session.execute(_free(order).where(Technician.lat.between(box[0], box[1]),
                                                  Technician.lng.between(box[2], box[3]))).all()
        # Only those within `step` are certain: someone outside the box is farther than `step`, but may be
        # nearer than a box corner.
        found = sorted(c for c in _distances(rows, order.category, origin) if c[0] <= step)
        if len(found) >= limit:
            return found[:limit]
        step *= 2
    rows = session.execute(_free(order).where(Technician.lat.is_not(None), Technician.lng.is_not(None))).all()
    return sorted(_distances(rows, order.category, origin))[:limit]


def _distances(rows, category: str, origin: tuple[float, float]) -> list[tuple[float, int]]:
    """(great-circle distance, id) of the rows that really have the skill."""
    return [(distance_km(origin[0], origin[1], r.lat, r.lng), r.id) for r in rows if _has(r.skills, category)]


def _unplaced(session: Session, order: Order, everyone: bool, wanted: int | None) -> list[int]:
    """Ids of candidates without a distance (all of them when the resident has no place), by id."""
    stmt = _free(order).order_by(Technician.id).limit(BATCH)
    if not everyone:
        stmt = stmt.where(or_(Technician.lat.is_(None), Technician.lng.is_(None)))
    ids: list[int] = []
    page = stmt
    while True:  # by id in batches: the skill re-check means SQL cannot apply `wanted` itself
        rows = session.execute(page).all()
        ids += [r.id for r in rows if _has(r.skills, order.category)]
        if (wanted is not None and len(ids) >= wanted) or len(rows) < BATCH:
            return ids[:wanted]
        page = stmt.where(Technician.id > rows[-1].id)


def _load(session: Session, ids: list[int]) -> dict[int, Technician]:
    """The chosen technicians as ORM objects, by id, in as few queries as the id list allows."""
    techs: dict[int, Technician] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        techs.update((t.id, t) for t in session.scalars(select(Technician).where(Technician.id.in_(chunk))))
    return techs
