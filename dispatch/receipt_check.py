"""SMS sent through Alibaba or Tencent with no delivery receipt after ALIYUN_RECEIPT_MINUTES: asked with
QuerySendDetails (Alibaba) or PullSmsSendStatusByPhoneNumber (Tencent), through the SMS provider's look_up_receipt.

Alibaba pushes receipts (SmsReport), but a push can be lost for good (our endpoint down through all ten of its
retries, a wrong push URL). The reconciler finds rows still `sent` that long after sending and asks; the
answer settles the row exactly as a pushed receipt would (dispatch.delivery.record_receipt: a failed offer
moves on). While Alibaba still waits for the carrier, it asks again ALIYUN_RECEIPT_MINUTES later, for at most
LOOKUP_HOURS after the send (then the row stays `sent`: accepted, outcome unknown).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Message
from models.phone import mask

from . import deferred
from .deferred import Work
from .delivery import record_receipt
from .providers import PhoneProvider, ProviderError
from .settings import DispatchSettings

log = logging.getLogger(__name__)
LOOKUP_HOURS = 24
# SIDs of providers that can be asked: Alibaba's BizId ("123456789012^0") or its stand-in for a send found by its
# OutId (aliyun.out_sid, "out:..."), and Tencent's SerialNo ("2433:1045710669157053657849499619"). Twilio's and the
# local outbox's SIDs have neither "^" nor ":".
LOOKUP_SIDS = ("%^%", "%:%")


def _unreceipted(now: datetime, settings: DispatchSettings):
    """The condition of rows sent through Alibaba, without a receipt since ALIYUN_RECEIPT_MINUTES, recent enough."""
    return (Message.direction == "outbound", Message.channel == "sms", Message.status == "sent",
            Message.sent_at <= now - timedelta(minutes=settings.aliyun_receipt_minutes),
            Message.sent_at > now - timedelta(hours=LOOKUP_HOURS),
            or_(*(Message.provider_sid.like(pattern) for pattern in LOOKUP_SIDS)))


def check_receipt(session: Session, message_id: int, provider: PhoneProvider, settings: DispatchSettings,
                  now: datetime) -> Work:
    """Ask the provider what became of one unreceipted SMS and settle the row; idempotent (caller commits)."""
    message = session.scalar(select(Message).where(Message.id == message_id, *_unreceipted(now, settings)))
    if message is None or not message.key:
        return []
    to, key, sent_at = message.to_phone, message.key, cast(datetime, message.sent_at)
    session.commit()  # no transaction stays open while the provider answers
    again = [deferred.receipt_check(message_id, now + timedelta(minutes=settings.aliyun_receipt_minutes))]
    look_up = getattr(provider, "look_up_receipt", None)
    if look_up is None:  # SMS_PROVIDER is no longer aliyun: nobody to ask (until LOOKUP_HOURS have passed)
        return again
    try:
        receipt = look_up(to, key, sent_at)
    except ProviderError as exc:
        log.warning("receipt of SMS %s to %s not looked up (%s); trying again later", key, mask(to), exc)
        return again
    if receipt is None:
        return again
    settled, follow = record_receipt(session, receipt, settings, now)
    log.info("SMS %s to %s: %s by a look-up", key, mask(to), "delivered" if receipt.delivered else "failed")
    return follow if settled else again


def overdue_receipts(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: a look-up for every SMS sent through Alibaba (by its SID) that got no receipt in time."""
    return [deferred.receipt_check(message_id) for message_id in session.scalars(
        select(Message.id).where(*_unreceipted(now, settings)).order_by(Message.id))]
