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


def deliver(session: Session, message_id: int, provider: PhoneProvider, from_: str) -> Message | None:
    """Send one outbox row unless it was sent already or another worker is sending it; safe to run twice.

    The row is claimed (status `sending`) before the provider is called, so two workers never send it at
    once; a claim older than CLAIM_SECONDS belongs to a dead worker and may be taken over. That is the one
    window for a duplicate: the provider accepted the message and the worker died before recording its SID.
    Raises ProviderError for transient failures (the job retries); permanent failures mark the row failed.
    """
    now = utcnow()
    # Claim and read the row in one statement (RETURNING): one round trip instead of three.
    message = session.scalars(
        update(Message)
        .where(Message.id == message_id,
               or_(Message.status == "queued",
                   and_(Message.status == "sending", Message.claimed_at < now - timedelta(seconds=CLAIM_SECONDS))))
        .values(status="sending", claimed_at=now, attempts=Message.attempts + 1)
        .returning(Message)
        .execution_options(populate_existing=True)
    ).one_or_none()
    session.commit()
    if message is None:  # sent already, being sent by another worker, or gone
        return session.get(Message, message_id, populate_existing=True)
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
