"""Who gets an order: active technicians with the skill, not busy, not yet asked, nearest first."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import OfferAttempt, Order, Technician

from .geo import distance_km

BUSY_STATUSES = ("accepted", "arrived")


@dataclass(frozen=True)
class Candidate:
    """A technician who may be offered the order, and how far away they are (None = unknown)."""

    technician: Technician
    distance_km: float | None
    inside_radius: bool


def candidates(session: Session, order: Order, radius_km: float) -> list[Candidate]:
    """Candidates for `order`: inside the radius before outside, each group nearest first."""
    busy = select(Order.technician_id).where(Order.status.in_(BUSY_STATUSES), Order.technician_id.is_not(None))
    asked = select(OfferAttempt.technician_id).where(OfferAttempt.order_id == order.id)
    rows = session.scalars(
        select(Technician)
        .where(Technician.active.is_(True), Technician.skills.contains(order.category),
               Technician.id.not_in(busy), Technician.id.not_in(asked))
    ).all()
    resident = order.resident
    origin = (resident.lat, resident.lng) if resident and resident.lat is not None and resident.lng is not None else None
    found: list[Candidate] = []
    for tech in rows:
        if not tech.has_skill(order.category):  # `contains` is a prefilter; skills are exact codes
            continue
        if origin and tech.lat is not None and tech.lng is not None:
            d = distance_km(origin[0], origin[1], tech.lat, tech.lng)
            found.append(Candidate(tech, d, d <= radius_km))
        else:
            found.append(Candidate(tech, None, False))
    # Unknown distances go last: a technician we cannot place should not beat one we know is close.
    found.sort(key=lambda c: (not c.inside_radius, c.distance_km is None, c.distance_km or 0.0, c.technician.id))
    return found
