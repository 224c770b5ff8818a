"""Console sign-ins kept in the database: the record of truth for who is signed in where."""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import cast

from sqlalchemy import ForeignKey, String, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime, utcnow
from .staff import StaffUser


class ConsoleSession(Base):
    """One browser's sign-in; the browser keeps a random token, the table only its SHA-256."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # logout | password | deactivated | admin | idle | expired
    end_reason: Mapped[str] = mapped_column(String(20), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")


def token_hash(token: str) -> str:
    """The stored form of a session token (a random token needs no salt or slow hash)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_with_user(session: Session, token: str) -> tuple[ConsoleSession, StaffUser] | None:
    """The session row of this token and its user, in one query; None for a token never issued."""
    row = session.execute(select(ConsoleSession, StaffUser).join(StaffUser, ConsoleSession.user_id == StaffUser.id)
                          .where(ConsoleSession.token_hash == token_hash(token))).first()
    return (row[0], row[1]) if row else None


def end_user_sessions(session: Session, user_id: int, reason: str) -> int:
    """End every open session of a user (caller commits); returns how many were open."""
    result = session.execute(update(ConsoleSession)
                             .where(ConsoleSession.user_id == user_id, ConsoleSession.ended_at.is_(None))
                             .values(ended_at=utcnow(), end_reason=reason))
    return cast(CursorResult, result).rowcount  # a DML statement's result is a CursorResult


def open_session_counts(session: Session, seen_since: datetime, created_since: datetime) -> dict[int, int]:
    """user id -> sessions not ended, seen since `seen_since` and begun since `created_since`."""
    rows = session.execute(select(ConsoleSession.user_id, func.count(ConsoleSession.id))
                           .where(ConsoleSession.ended_at.is_(None), ConsoleSession.last_seen_at >= seen_since,
                                  ConsoleSession.created_at >= created_since)
                           .group_by(ConsoleSession.user_id))
    return {user_id: count for user_id, count in rows}
