"""Outbox rows as the SMS budget sees them, for the budget and alert-merging tests: sent a while ago, held."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dispatch.budget import DEFAULT
from models import Case, Message, utcnow

OFFICER = "+8613800002001"
OTHER = "+8613800002002"


@pytest.fixture
def settings(settings):
    """The test settings with the default budget (GoAlert's caps: 1/60,5/900,12/3600) instead of off."""
    return settings.with_overrides(sms_budget=DEFAULT)


def sent_row(db, phone: str, seconds_ago: float, key: str | None = None, channel: str = "sms",
             status: str = "sent") -> Message:
    """An SMS (or call) that went to `phone` `seconds_ago` seconds ago."""
    at = utcnow() - timedelta(seconds=seconds_ago)
    row = Message(key=key or f"earlier:{phone}:{seconds_ago}:{channel}", direction="outbound", channel=channel,
                  to_phone=phone, body="x", status=status, created_at=at, sent_at=at)
    db.add(row)
    db.commit()
    return row


def age(db, phone: str, seconds: float) -> None:
    """Let `seconds` pass for `phone`'s budget: everything sent to it moves that far into the past."""
    rows = db.scalars(select(Message).where(Message.to_phone == phone, Message.sent_at.is_not(None))).all()
    for row in rows:
        db.execute(update(Message).where(Message.id == row.id)
                   .values(sent_at=row.sent_at - timedelta(seconds=seconds)))
    db.commit()
    db.expire_all()


def case(db, code: str) -> Case:
    """A child-line case waiting for acknowledgement."""
    row = Case(code=code, call_sid=f"CA{code:0>32}", caller="+8613904761234", status="voicemail")
    db.add(row)
    db.commit()
    return row


def rows_to(db, phone: str) -> list[Message]:
    """Every outbox row to `phone`, oldest first."""
    db.expire_all()
    return list(db.scalars(select(Message).where(Message.to_phone == phone).order_by(Message.id)))
