"""Phone providers: one interface, a Twilio adapter and a local outbox; errors translated at this edge.

This is the only module that imports `twilio.rest`.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Protocol

from models.phone import mask

log = logging.getLogger(__name__)

# Twilio error codes that will not get better by retrying.
PERMANENT_CODES = {21211, 21214, 21217, 21401, 21407, 21408, 21421, 21601, 21602, 21603, 21604,
                   21606, 21608, 21610, 21612, 21614, 21617, 30003, 30004, 30005, 30006, 30007}


class ProviderError(Exception):
    """A send failed; `permanent` says whether retrying can help."""

    def __init__(self, message: str, code: int | None = None, status: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.code = code
        self.status = status
        self.permanent = permanent


@dataclass(frozen=True)
class Sent:
    """What the provider said about an accepted message or call."""

    sid: str
    status: str


class PhoneProvider(Protocol):
    """Sends SMS and places calls that speak fixed TwiML."""

    local: bool

    def send_sms(self, to: str, from_: str, body: str) -> Sent:
        """Send one SMS."""

    def place_call(self, to: str, from_: str, twiml: str) -> Sent:
        """Place one outbound call that plays `twiml`."""


class LocalOutbox:
    """Local mode: nothing leaves the machine; the outbox row and a masked log line are the record."""

    local = True

    def send_sms(self, to: str, from_: str, body: str) -> Sent:
        """Record an SMS as sent locally."""
        log.info("local outbox: SMS to %s (%d chars)", mask(to), len(body))
        return Sent(sid="LO" + secrets.token_hex(16), status="local")

    def place_call(self, to: str, from_: str, twiml: str) -> Sent:
        """Record a call as placed locally."""
        log.info("local outbox: call to %s", mask(to))
        return Sent(sid="LO" + secrets.token_hex(16), status="local")


class TwilioProvider:
    """Twilio's REST API (or a Twilio-compatible provider at another base URL)."""

    local = False

    def __init__(self, account_sid: str, auth_token: str, base_url: str, timeout: float):
        from twilio.rest import Client

        from .twilio_transport import PooledHttpClient

        # twilio-python has no HTTP timeout by default; a hung provider must not hang a worker. Built once
        # per worker: its pool keeps the provider connection alive from one send to the next.
        self._client = Client(account_sid, auth_token, http_client=PooledHttpClient(base_url, timeout))
        self._client.api.base_url = base_url.rstrip("/")

    def send_sms(self, to: str, from_: str, body: str) -> Sent:
        """Send one SMS through Twilio."""
        msg = self._call(lambda: self._client.messages.create(to=to, from_=from_, body=body))
        return Sent(sid=msg.sid, status=msg.status or "queued")

    def place_call(self, to: str, from_: str, twiml: str) -> Sent:
        """Place a call through Twilio that plays inline TwiML."""
        call = self._call(lambda: self._client.calls.create(to=to, from_=from_, twiml=twiml))
        return Sent(sid=call.sid, status=call.status or "queued")

    @staticmethod
    def _call(fn):
        from twilio.base.exceptions import TwilioException, TwilioRestException
        from urllib3.exceptions import HTTPError as TransportError

        try:
            return fn()
        except TwilioRestException as exc:
            permanent = exc.code in PERMANENT_CODES or (exc.status in (400, 404) and exc.code not in (20429,))
            raise ProviderError(f"twilio {exc.status}/{exc.code}", exc.code, exc.status, permanent) from None
        except TwilioException as exc:
            raise ProviderError(f"twilio error: {type(exc).__name__}") from None
        except (TransportError, OSError) as exc:  # timeouts, refused or dropped connections
            raise ProviderError(f"network error: {type(exc).__name__}") from None


def build_provider(settings) -> PhoneProvider:
    """The provider the settings ask for: Twilio with credentials, else the local outbox."""
    if settings.local_mode:
        return LocalOutbox()
    return TwilioProvider(settings.twilio_account_sid, settings.twilio_auth_token,
                          settings.twilio_api_base_url, settings.twilio_timeout_seconds)
