"""Bureau staff who use the web console, and what each role may do."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime, utcnow

# admin: everything, including users and the access log. dispatcher: the elderly line (orders, technicians,
# residents, imports, reports). duty_officer: the child line (cases, rota, officers).
ROLES = ("admin", "dispatcher", "duty_officer")


class StaffUser(Base):
    """A console login; the password is stored only as a salted hash."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def user_by_name(session: Session, username: str) -> StaffUser | None:
    """The user with this login name, if any."""
    return session.scalar(select(StaffUser).where(StaffUser.username == username))
