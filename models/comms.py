"""What went in and out by phone: calls with their key paths, and every SMS or call sent (the outbox)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime, utcnow


class CallLog(Base):
    """One inbound call: who, which line, the keys pressed, how it ended."""

    __tablename__ = "call_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(String(32), default="")
    to_phone: Mapped[str] = mapped_column(String(32), default="")
    line: Mapped[str] = mapped_column(String(20), default="elderly")
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    path: Mapped[str] = mapped_column(String(500), default="")  # keys pressed, "_" for silence
    outcome: Mapped[str] = mapped_column(String(40), default="in-progress")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    status: Mapped[str] = mapped_column(String(20), default="ringing")  # Twilio CallStatus
    duration_s: Mapped[int | None] = mapped_column(Integer)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(Base):
    """An SMS or voice call, inbound or outbound; outbound rows are the outbox the worker sends from."""

    __tablename__ = "messages"
    # The SMS budget counts what went to one number recently, on every send.
    __table_args__ = (Index("ix_messages_to_phone_sent_at", "to_phone", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One row per purpose ("offer:12", "notify:7", "alert:escalated:7:3"): a retried job never sends twice.
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    direction: Mapped[str] = mapped_column(String(10), default="outbound")
    channel: Mapped[str] = mapped_column(String(10), default="sms")  # sms | call
    to_phone: Mapped[str] = mapped_column(String(32))
    from_phone: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # queued -> sending (claimed by a worker) -> sent | local | failed; inbound: received; SMS answers: twiml.
    # A send whose outcome is unknown (timed out after the request went out) is `unknown` until retried; a
    # provider's delivery receipt turns `sent` into `delivered` or `failed`. Over the recipient's SMS budget
    # (dispatch/budget.py) an SMS is `held`, then sent, or `merged` into one SMS with others (merged_into_id).
    status: Mapped[str] = mapped_column(String(20), default="queued")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # The console user who typed an inbound SMS in the softphone: the phone's owner did not send it.
    sent_by: Mapped[str | None] = mapped_column(String(64))
    # The text's kind (its key in dispatch/texts) and parameters, JSON: a template-based provider (Alibaba
    # Cloud) sends these instead of the text. Unset on rows whose text was not rendered from one kind.
    template: Mapped[str | None] = mapped_column(String(40))
    template_params: Mapped[str | None] = mapped_column(Text)
    # A held alert sent as part of one merged SMS: that SMS's row.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def call_by_sid(session: Session, call_sid: str) -> CallLog | None:
    """The call log row of a CallSid, if any."""
    return session.scalar(select(CallLog).where(CallLog.call_sid == call_sid))


def log_call(session: Session, **values) -> tuple[CallLog, bool]:
    """The call's log row, inserted with `values` unless its CallSid has one already; and whether it was inserted.

    ON CONFLICT DO NOTHING rather than catching IntegrityError: a rollback would also undo whatever the
    caller's transaction holds (a webhook's receipt). A concurrent first insert for the same call waits for
    the other's commit, inserts nothing and reads that row. (The elderly line's plain walk logs its calls in
    one statement of its own, hotline/webhooks/call_store.py.)
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = session.scalars(insert(CallLog).on_conflict_do_nothing().values(**values).returning(CallLog)).first()
    if inserted is not None:
        return inserted, True
    existing = call_by_sid(session, values["call_sid"])
    if existing is None:  # only if the conflicting row was deleted between the two statements
        raise LookupError(f"call {values['call_sid'][-8:]} neither inserted nor found")
    return existing, False
