"""Finding people for the console: search by name, phone digits or community, a page at a time; who is nearby."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dispatch.geo import bounding_box, distance_km
from dispatch.matching import BUSY_STATUSES
from models import Officer, Order, Resident, ResidentPhone, Technician

PER_PAGE = 25
NEARBY_RADIUS_KM = 10.0
NEARBY_LIMIT = 20
STATUSES = ("all", "active", "inactive")


@dataclass(frozen=True)
class Page:
    """One page of a search: its rows, the page number (from 1) and how many pages there are."""

    rows: list
    number: int
    pages: int
    total: int


@dataclass(frozen=True)
class Nearby:
    """An active technician near a resident, how far away, and whether an order keeps them busy now."""

    technician: Technician
    distance_km: float
    busy: bool


def _phone_patterns(query: str) -> list[str]:
    """Digit runs to look for inside stored E.164 numbers (`0476-822…` is stored `+86476822…`)."""
    digits = re.sub(r"\D", "", query)
    if len(digits) < 3:  # one or two digits match nearly everyone
        return []
    patterns = {digits}
    if digits.startswith("0") and len(digits) > 3:
        patterns.add(digits.lstrip("0"))  # the trunk prefix dialled at home is not part of E.164
    return sorted(patterns)


def _matches(model, query: str):
    """The WHERE clause for one search box: name or community contains it, or a phone contains its digits."""
    text = query.strip()
    if not text:
        return None
    clauses = [model.name.icontains(text, autoescape=True)]
    if model is not Officer:
        clauses.append(model.community.icontains(text, autoescape=True))
    for digits in _phone_patterns(text):
        if model is Resident:
            clauses.append(model.id.in_(select(ResidentPhone.resident_id)
                                        .where(ResidentPhone.phone.contains(digits, autoescape=True))))
        else:
            clauses.append(model.phone.contains(digits, autoescape=True))
    return or_(*clauses)


def search(session: Session, model, query: str = "", status: str = "all", page: int = 1,
           per_page: int = PER_PAGE) -> Page:
    """Technicians, residents or officers matching `query` and `status`, active first, a page at a time."""
    stmt = select(model)
    where = _matches(model, query)
    if where is not None:
        stmt = stmt.where(where)
    if status in ("active", "inactive"):
        stmt = stmt.where(model.active.is_(status == "active"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    number = min(max(1, page), pages)
    rows = session.scalars(stmt.order_by(model.active.desc(), model.id)
                           .offset((number - 1) * per_page).limit(per_page)).all()
    return Page(list(rows), number, pages, total)


def nearby_technicians(session: Session, lat: float, lng: float, radius_km: float = NEARBY_RADIUS_KM,
                       limit: int = NEARBY_LIMIT) -> list[Nearby]:
    """Active technicians within `radius_km` of a point, nearest first, at most `limit`."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    rows = session.scalars(select(Technician).where(
        Technician.active.is_(True), Technician.lat.between(min_lat, max_lat),
        Technician.lng.between(min_lng, max_lng))).all()
    busy = set(session.scalars(select(Order.technician_id).where(
        Order.status.in_(BUSY_STATUSES), Order.technician_id.is_not(None))))
    found = []
    for tech in rows:
        d = distance_km(lat, lng, tech.lat, tech.lng)
        if d <= radius_km:
            found.append(Nearby(tech, d, tech.id in busy))
    found.sort(key=lambda n: (n.distance_km, n.technician.id))
    return found[:limit]
