"""The registries: residents (callers), technicians (who go out) and officers (who answer)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

# The five service categories of the elderly line, by the key a caller presses.
CATEGORIES = {
    "1": "daily_care",
    "2": "housekeeping",
    "3": "companionship",
    "4": "legal_aid",
    "5": "emergency",
}
CATEGORY_CODES = tuple(CATEGORIES.values())
RESIDENT_FLAGS = ("advanced_age", "hardship", "empty_nest", "left_behind")
OFFICER_ROLES = ("officer", "supervisor")


class Resident(Base):
    """An elderly resident registered with the bureau; may call from several numbers."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300), default="")
    community: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    birth_date: Mapped[date | None] = mapped_column(Date)
    advanced_age: Mapped[bool] = mapped_column(Boolean, default=False)
    hardship: Mapped[bool] = mapped_column(Boolean, default=False)
    empty_nest: Mapped[bool] = mapped_column(Boolean, default=False)
    left_behind: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency_contact: Mapped[str] = mapped_column(String(200), default="")
    # Moved away or deceased: kept for the record, no longer matched as a caller.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    phones: Mapped[list[ResidentPhone]] = relationship(
        back_populates="resident", cascade="all, delete-orphan", order_by="ResidentPhone.id"
    )

    @property
    def primary_phone(self) -> str | None:
        """The first registered number, used for call-backs."""
        return self.phones[0].phone if self.phones else None

    @property
    def flags(self) -> list[str]:
        """The set flags by code."""
        return [f for f in RESIDENT_FLAGS if getattr(self, f)]


class ResidentPhone(Base):
    """One of a resident's numbers, in E.164; a number belongs to one resident."""

    __tablename__ = "resident_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)

    resident: Mapped[Resident] = relationship(back_populates="phones")


class Technician(Base):
    """A service technician with skills (category codes) and a base location."""

    __tablename__ = "technicians"
    # The matcher's bounding box: active = true, then a range on lat, with lng checked inside the index.
    __table_args__ = (Index("ix_technicians_active_lat_lng", "active", "lat", "lng"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    skills: Mapped[str] = mapped_column(String(200), default="")  # ";"-joined category codes
    # The service provider (服务商) the technician works for: whose statement their visits go on.
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("service_providers.id"), index=True)
    community: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def skill_list(self) -> list[str]:
        """Skills as a list of category codes."""
        return [s for s in self.skills.split(";") if s]

    def has_skill(self, category: str) -> bool:
        """Whether the technician may be offered orders of this category."""
        return category in self.skill_list


class Officer(Base):
    """A duty officer or supervisor who answers transferred calls and alerts."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    role: Mapped[str] = mapped_column(String(20), default="officer")
    # Left the bureau: no longer rung or alerted, kept for the case history.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def resident_by_phone(session: Session, phone: str | None) -> Resident | None:
    """The active resident who owns this number, if any."""
    if not phone:
        return None
    return session.scalar(select(Resident).join(ResidentPhone)
                          .where(ResidentPhone.phone == phone, Resident.active.is_(True)))


def technician_by_phone(session: Session, phone: str | None) -> Technician | None:
    """The technician with this number, if any."""
    if not phone:
        return None
    return session.scalar(select(Technician).where(Technician.phone == phone))


def officer_by_phone(session: Session, phone: str | None) -> Officer | None:
    """The officer with this number, if any."""
    if not phone:
        return None
    return session.scalar(select(Officer).where(Officer.phone == phone))
