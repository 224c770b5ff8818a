"""What a provider's webhooks mean, whoever the provider: an SMS from a number, a key pressed on a call.

Each receiving adapter (hotline.webhooks.twilio_inbound for Twilio) turns its provider's requests into these; the
rest of the project reads only them. A provider that delivers replies in batches makes one event of each.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InboundSms:
    """An SMS that came in: the provider's message id (dedup key; None if it gave none), sender, our number, text."""

    sid: str | None
    from_: str
    to: str
    text: str


@dataclass(frozen=True)
class KeyPress:
    """Keys pressed on a call (None: the question got no key), and the call it belongs to.

    `parent_call_sid` is set on a leg dialled from another call (an officer screened before bridging).
    """

    call_sid: str
    digits: str | None
    parent_call_sid: str = ""


@dataclass(frozen=True)
class DeliveryReceipt:
    """A carrier's word on an SMS sent: the provider's message id, our outbox key, delivered or not, and why."""

    sid: str
    key: str
    delivered: bool
    error: str = ""


@dataclass(frozen=True)
class CallReport:
    """A provider's record of a call once it ended (Alibaba's VoiceReport): its call id (dedup key), our outbox
    row's id, the number it rang (E.164, "" if unreadable), whether it was answered and why not, the keys pressed."""

    call_id: str
    message_id: int | None
    to: str
    answered: bool
    outcome: str = ""
    digits: str = ""
