"""The outbox: every outbound SMS or call is a row first (unique per purpose), then sent by a job."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Message, utcnow
from models.phone import mask

from .providers import PhoneProvider, ProviderError

log = logging.getLogger(__name__)
# A send takes at most the provider timeout (10 s by default); a claim this old was left by a dead worker.
CLAIM_SECONDS = 30


def queue_message(session: Session, key: str, to: str, body: str, channel: str = "sms",
                  order_id: int | None = None, from_: str = "", case_id: int | None = None,
                  fresh: bool = False) -> Message:
    """The outbox row for `key`, created if new; a second call with the same key returns the first row."""
    message = Message(key=key, direction="outbound", channel=channel, to_phone=to, from_phone=from_,
                      body=body, status="queued", order_id=order_id, case_id=case_id)
    if fresh:  # the key names a row made in this transaction (offer:<new attempt id>): nobody can have it yet
        session.add(message)
        session.flush()
        return message
    existing = session.scalar(select(Message).where(Message.key == key))
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # another process queued the same purpose first
        return session.scalar(select(Message).where(Message.key == key))
    return message


def _claimable(now):
    """Queued, or claimed by a worker that died (a claim older than CLAIM_SECONDS)."""
    return or_(Message.status == "queued",
               and_(Message.status == "sending", Message.claimed_at < now - timedelta(seconds=CLAIM_SECONDS)))


def claim(session: Session, message_ids: list[int]) -> list[Message]:
    """Claim outbox rows for this worker (status `sending`) in the caller's transaction; the claimed rows, in order.

    Rows sent already, or being sent by another worker, are left out. The caller commits before sending.
    """
    if not message_ids:
        return []
    now = utcnow()
    # Claim and read the rows in one statement (RETURNING): one round trip.
    rows = session.scalars(
        update(Message)
        .where(Message.id.in_(message_ids), _claimable(now))
        .values(status="sending", claimed_at=now, attempts=Message.attempts + 1)
        .returning(Message)
        .execution_options(populate_existing=True)
    ).all()
    by_id = {m.id: m for m in rows}
    return [by_id[i] for i in dict.fromkeys(message_ids) if i in by_id]


def release(session: Session, messages: list[Message]) -> None:
    """Give back claims this worker will not use (queued again, for any worker); rows taken over are left alone."""
    for message in messages:
        session.execute(update(Message)
                        .where(Message.id == message.id, Message.status == "sending",
                               Message.claimed_at == message.claimed_at)
                        .values(status="queued"))
    session.commit()


def deliver(session: Session, message_id: int, provider: PhoneProvider, from_: str) -> Message | None:
    """Send one outbox row unless it was sent already or another worker is sending it; safe to run twice.

    The row is claimed (status `sending`) before the provider is called, so two workers never send it at
    once; a claim older than CLAIM_SECONDS belongs to a dead worker and may be taken over. That is the one
    window for a duplicate: the provider accepted the message and the worker died before recording its SID.
    Raises ProviderError for transient failures (the job retries); permanent failures mark the row failed.
    """
    claimed = claim(session, [message_id])
    session.commit()
    if not claimed:  # sent already, being sent by another worker, or gone
        return session.get(Message, message_id, populate_existing=True)
    return send_claimed(session, claimed[0], provider, from_)


def send_claimed(session: Session, message: Message, provider: PhoneProvider, from_: str) -> Message:
    """Send a row this worker claimed (the claim committed), then record its SID or its failure.

    Raises ProviderError for transient failures (the row is queued again); permanent failures mark it failed.
    """
    session.add(message)  # a row claimed in an earlier session of this job
    sender = message.from_phone or from_
    try:
        if message.channel == "call":
            sent = provider.place_call(message.to_phone, sender, message.body)
        else:
            sent = provider.send_sms(message.to_phone, sender, message.body)
    except ProviderError as exc:
        message.error = str(exc)[:300]
        if not exc.permanent:
            log.warning("send %s to %s failed, will retry: %s", message.key, mask(message.to_phone), exc)
            message.status = "queued"
            session.commit()
            raise
        log.error("send %s to %s failed permanently: %s", message.key, mask(message.to_phone), exc)
        message.status = "failed"
        session.commit()
        return message
    message.provider_sid, message.from_phone = sent.sid, sender
    message.status = "local" if provider.local else "sent"
    message.sent_at = utcnow()
    session.commit()
    log.info("sent %s %s to %s (%s)", message.channel, message.key, mask(message.to_phone), message.status)
    return message
