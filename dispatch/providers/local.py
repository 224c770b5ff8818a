"""The local outbox: nothing leaves the machine; the outbox row and a masked log line are the record."""
from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from models.phone import mask

from .interface import CallScript, Outgoing, Sent

if TYPE_CHECKING:  # type-only: providers sit below dispatch's modules at run time
    from ..settings import DispatchSettings

log = logging.getLogger(__name__)


class LocalOutbox:
    """Local mode (PHONE_PROVIDER=local): SMS and calls are recorded as sent, with a local SID."""

    local = True

    def send_sms(self, to: str, text: str, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Record an SMS as sent locally."""
        log.info("local outbox: SMS to %s (%d chars)", mask(to), len(text))
        return Sent(sid="LO" + secrets.token_hex(16), status="local")

    def place_call(self, to: str, script: CallScript, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Record a call as placed locally."""
        log.info("local outbox: call to %s", mask(to))
        return Sent(sid="LO" + secrets.token_hex(16), status="local")


def from_settings(settings: DispatchSettings) -> LocalOutbox:
    """The local outbox (it needs no settings)."""
    return LocalOutbox()
