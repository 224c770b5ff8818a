"""Delivery receipts: a provider's report that an SMS reached the handset, or did not (Alibaba's SmsReport)."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Message
from models.phone import mask

from .deferred import Work
from .offers import offer_failed
from .providers import DeliveryReceipt
from .settings import DispatchSettings

log = logging.getLogger(__name__)
# Rows a receipt may settle: sent, sent with an unknown outcome (the receipt is the answer), or settled before.
SETTLEABLE = ("sent", "unknown", "queued", "delivered", "failed")


def record_receipt(session: Session, receipt: DeliveryReceipt, settings: DispatchSettings,
                   now: datetime) -> tuple[bool, Work]:
    """Mark the outbox row delivered or failed (caller commits); (settled, follow-up work).

    Not settled (False): the row is being sent right now and its SID not yet stored; the provider should push
    the receipt again later. A receipt for no row of ours is settled with nothing to do. Safe to repeat: the
    same receipt sets the same status. A failed offer moves the order on to the next technician at once.
    """
    message = session.scalar(select(Message).where(
        Message.direction == "outbound",
        or_(Message.key == receipt.key, Message.provider_sid == receipt.sid) if receipt.key else
        Message.provider_sid == receipt.sid))
    if message is None:
        log.info("delivery receipt for no outbox row (%s) ignored", receipt.sid[-8:])
        return True, []
    if message.status == "sending":
        return False, []
    if message.status not in SETTLEABLE or message.status == ("delivered" if receipt.delivered else "failed"):
        return True, []
    if message.provider_sid is None or message.provider_sid.startswith("out:"):
        message.provider_sid = receipt.sid or message.provider_sid
    message.sent_at = message.sent_at or now
    if receipt.delivered:
        message.status = "delivered"
        return True, []
    message.status, message.error = "failed", f"receipt: {receipt.error}"[:300]
    log.warning("SMS %s to %s not delivered: %s", message.key, mask(message.to_phone), receipt.error[:60])
    if (message.key or "").startswith("offer:"):
        return True, offer_failed(session, int((message.key or "").split(":")[1]), settings, now)
    return True, []


# How an SMS provider's refusal for an account that cannot send reads in outbox rows (dispatch.providers.aliyun,
# dispatch.providers.tencent).
ACCOUNT_EMPTY_ERRORS = ("aliyun isv.AMOUNT_NOT_ENOUGH%", "aliyun isv.OUT_OF_SERVICE%",
                        "tencent FailedOperation.InsufficientBalanceInSmsPackage%",
                        "tencent UnauthorizedOperation.ServiceSuspendDueToArrears%")


def account_empty_since(session: Session) -> datetime | None:
    """When SMS began to fail because the provider account cannot send, if no SMS went out since; else None."""
    failed = session.scalar(select(Message.created_at).where(
        Message.direction == "outbound", Message.status == "failed",
        or_(*(Message.error.like(pattern) for pattern in ACCOUNT_EMPTY_ERRORS)))
        .order_by(Message.created_at.desc()).limit(1))
    if failed is None:
        return None
    sent_since = session.scalar(select(Message.id).where(
        Message.direction == "outbound", Message.channel == "sms", Message.status.in_(("sent", "delivered")),
        Message.sent_at > failed).limit(1))
    return None if sent_since is not None else failed
