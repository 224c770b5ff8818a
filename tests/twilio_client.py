"""Post signed webhooks to the Flask app exactly as Twilio does, plus small TwiML helpers."""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import urljoin, urlsplit

from twilio.request_validator import RequestValidator

try:  # tests/ may or may not be a package, depending on who imports us.
    from .twilio_fake import DEFAULT_ACCOUNT_SID, count_segments
except ImportError:
    from twilio_fake import DEFAULT_ACCOUNT_SID, count_segments

API_VERSION = "2010-04-01"
# Longest prefix wins; Twilio sends ISO country codes derived from the number.
COUNTRY_PREFIXES = {"1": "US", "44": "GB", "61": "AU", "65": "SG", "81": "JP", "82": "KR",
                    "86": "CN", "852": "HK", "853": "MO", "886": "TW"}


def country_of(number: str) -> str:
    """Return the ISO country Twilio would report for an E.164 number ('' when unknown)."""
    digits = number[1:] if number.startswith("+") else ""
    for length in (3, 2, 1):
        if digits[:length] in COUNTRY_PREFIXES:
            return COUNTRY_PREFIXES[digits[:length]]
    return ""


def _geo(prefix: str, number: str) -> dict[str, str]:
    # Twilio always sends the geo fields, mostly empty outside North America.
    return {f"{prefix}Country": country_of(number), f"{prefix}State": "",
            f"{prefix}City": "", f"{prefix}Zip": ""}


class TwilioWebhookClient:
    """Drives a Flask test client with form-encoded, X-Twilio-Signature-signed webhooks."""

    def __init__(self, client, auth_token: str = "secret",
                 public_base_url: str = "http://127.0.0.1:5000",
                 account_sid: str = DEFAULT_ACCOUNT_SID):
        """Wrap a Flask test client; public_base_url must match the app's PUBLIC_BASE_URL."""
        self.client = client
        self.auth_token = auth_token
        self.public_base_url = public_base_url.rstrip("/")
        self.account_sid = account_sid
        self.validator = RequestValidator(auth_token)

    def url_for(self, path: str) -> str:
        """Return the public URL Twilio requests (and signs) for an app path with query."""
        return self.public_base_url + path

    def signature_for(self, path: str, params: dict) -> str:
        """Compute the X-Twilio-Signature Twilio would send for this path and params."""
        return self.validator.compute_signature(self.url_for(path), params)

    def post(self, path: str, params: dict | None = None, signed: bool = True,
             signature: str | None = None, headers: dict | None = None):
        """POST params form-encoded to path; unsigned or with a forced signature for negatives."""
        params = {k: str(v) for k, v in (params or {}).items() if v is not None}
        sent = {"User-Agent": "TwilioProxy/1.1",
                "I-Twilio-Idempotency-Token": secrets.token_hex(16)}
        if signature is not None:
            sent["X-Twilio-Signature"] = signature
        elif signed:
            sent["X-Twilio-Signature"] = self.signature_for(path, params)
        sent.update(headers or {})
        # The app should see the same scheme/host Twilio signed, as behind a real proxy.
        origin = urlsplit(self.public_base_url)
        return self.client.post(path, data=params, headers=sent,
                                base_url=f"{origin.scheme}://{origin.netloc}")

    def new_call(self, from_: str, to: str, direction: str = "inbound",
                 sid: str | None = None, **extra: str) -> "Call":
        """Start a simulated call; extra params are sent on every webhook of the call."""
        return Call(self, from_, to, direction, sid or "CA" + secrets.token_hex(16), extra)

    def sms(self, from_: str, to: str, body: str, path: str = "/twilio/sms",
            sid: str | None = None, **extra: str):
        """Deliver an inbound SMS webhook exactly as Twilio posts it."""
        sid = sid or "SM" + secrets.token_hex(16)
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid,
                  "AccountSid": self.account_sid, "From": from_, "To": to, "Body": body,
                  "NumMedia": "0", "NumSegments": str(count_segments(body)),
                  "SmsStatus": "received", "ApiVersion": API_VERSION,
                  **_geo("From", from_), **_geo("To", to)}
        params.update(extra)
        return self.post(path, params)

    def message_status(self, sid: str, status: str, from_: str, to: str,
                       path: str = "/twilio/sms/status", **extra: str):
        """Deliver an outbound message StatusCallback (e.g. delivered, failed with ErrorCode)."""
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.account_sid,
                  "From": from_, "To": to, "MessageStatus": status, "SmsStatus": status,
                  "ApiVersion": API_VERSION}
        params.update(extra)
        return self.post(path, params)


class Call:
    """One simulated call: keeps CallSid and base params across its webhooks."""

    def __init__(self, tw: TwilioWebhookClient, from_: str, to: str, direction: str,
                 sid: str, extra: dict):
        """Create the call state; use TwilioWebhookClient.new_call instead."""
        self.tw, self.from_, self.to, self.direction, self.sid = tw, from_, to, direction, sid
        self.extra = dict(extra)
        self.status_value = "ringing"
        self.last_path: str | None = None
        self.sequence = 0
        self.history: list[tuple[str, dict]] = []

    def base_params(self) -> dict[str, str]:
        """Params Twilio sends on every voice webhook for this call."""
        params = {"CallSid": self.sid, "AccountSid": self.tw.account_sid,
                  "From": self.from_, "To": self.to, "Caller": self.from_, "Called": self.to,
                  "CallStatus": self.status_value, "Direction": self.direction,
                  "ApiVersion": API_VERSION, **_geo("From", self.from_), **_geo("To", self.to),
                  **_geo("Caller", self.from_), **_geo("Called", self.to)}
        params.update(self.extra)
        return params

    def post(self, path: str, **params: str):
        """POST a voice webhook (first one "ringing", later ones "in-progress") merging params."""
        merged = self.base_params()
        merged.update(params)
        response = self._send(path, merged)
        self.last_path = path
        # After the first TwiML is served Twilio reports the call as answered.
        if self.status_value == "ringing":
            self.status_value = "in-progress"
        return response

    def follow(self, response, **params: str):
        """Parse response's TwiML and POST to the URL Twilio would request next."""
        target = next_action(parse_twiml(response), self.last_path or "/")
        assert target is not None, "TwiML has no next action (call would continue or hang up)"
        return self.post(target, **params)

    def status(self, call_status: str, path: str = "/twilio/voice/status", **params: str):
        """POST a call-progress StatusCallback (e.g. "completed" with CallDuration)."""
        self.status_value = call_status
        merged = self.base_params()
        merged.update({"CallbackSource": "call-progress-events",
                       "SequenceNumber": str(self.sequence),
                       "Timestamp": format_datetime(datetime.now(timezone.utc))})
        self.sequence += 1
        merged.update(params)
        return self._send(path, merged)

    def _send(self, path: str, params: dict):
        self.history.append((path, params))
        return self.tw.post(path, params)


def parse_twiml(response) -> ET.Element:
    """Assert response is a 200 XML TwiML document and return its <Response> root."""
    assert response.status_code == 200, f"expected 200, got {response.status_code}"
    assert response.mimetype in ("text/xml", "application/xml"), \
        f"expected XML content type, got {response.content_type}"
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response", f"root element is <{root.tag}>, expected <Response>"
    return root


def next_action(root: ET.Element, current_path: str = "/") -> str | None:
    """Return path+query Twilio requests next (Gather/Record/Dial action, Redirect), or None."""
    base = "http://twilio.invalid" + current_path
    for verb in root:
        if verb.tag in ("Hangup", "Reject"):
            return None
        if verb.tag == "Redirect":
            target = (verb.text or "").strip()
        elif verb.tag in ("Gather", "Record"):
            # Without an action, Twilio re-requests the current document URL.
            target = verb.get("action") or current_path
        elif verb.tag in ("Dial", "Enqueue", "Pay") and verb.get("action"):
            target = verb.get("action")
        else:
            continue
        parts = urlsplit(urljoin(base, target))
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return None
