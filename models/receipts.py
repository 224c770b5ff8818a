"""Webhook receipts: Twilio retries and duplicates are answered from here, once, with the first answer."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import String, Text, delete
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime, utcnow


class WebhookReceipt(Base):
    """One webhook delivery, keyed by its content (and idempotency token): `pending` while it is handled."""

    __tablename__ = "webhook_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    route: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done
    response: Mapped[str] = mapped_column(Text, default="")
    mimetype: Mapped[str] = mapped_column(String(40), default="text/xml")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# Twilio retries within minutes; a receipt older than this only holds personal data.
KEEP_RECEIPTS = timedelta(days=3)


def purge_receipts(session: Session, now: datetime) -> int:
    """Delete receipts older than KEEP_RECEIPTS (caller commits); returns how many."""
    result = session.execute(delete(WebhookReceipt).where(WebhookReceipt.created_at < now - KEEP_RECEIPTS))
    return cast(CursorResult, result).rowcount  # a DML statement's result is a CursorResult
