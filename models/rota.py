"""The on-call rota: who answers which line, in which tier, when."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .base import Base, UTCDateTime
from .people import Officer

LINES = ("elderly", "child")


class RotaShift(Base):
    """One officer on one line for one time span; tier 1 rings first."""

    __tablename__ = "rota_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), index=True)
    line: Mapped[str] = mapped_column(String(20))
    tier: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    officer: Mapped[Officer] = relationship()


def on_duty_tiers(session: Session, line: str, at: datetime) -> list[list[Officer]]:
    """Active officers on duty for `line` at `at`, grouped by tier (lowest first), each officer once."""
    rows = session.execute(
        select(RotaShift.tier, Officer)
        .join(Officer, RotaShift.officer_id == Officer.id)
        .where(RotaShift.line == line, RotaShift.starts_at <= at, RotaShift.ends_at > at, Officer.active.is_(True))
        .order_by(RotaShift.tier, Officer.id)
    ).all()
    tiers: dict[int, list[Officer]] = {}
    seen: set[int] = set()
    for tier, officer in rows:
        if officer.id in seen:  # overlapping shifts: ring an officer only in their first tier
            continue
        seen.add(officer.id)
        tiers.setdefault(tier, []).append(officer)
    return [tiers[t] for t in sorted(tiers)]


def supervisors(session: Session) -> list[Officer]:
    """Every active officer with the supervisor role: the last resort when the rota is empty."""
    return list(session.scalars(select(Officer).where(Officer.role == "supervisor", Officer.active.is_(True))
                                .order_by(Officer.id)))


def escalation_chain(session: Session, line: str, at: datetime) -> list[list[Officer]]:
    """Tiers to ring for `line` now: the rota, or the supervisors when nobody is on it."""
    tiers = on_duty_tiers(session, line, at)
    if tiers:
        return tiers
    sups = supervisors(session)
    return [sups] if sups else []
