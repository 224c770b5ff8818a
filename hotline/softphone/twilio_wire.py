"""What Twilio puts on the wire when it calls us: webhook parameters and the signature over them.

Shared by `flask simulate` (over HTTP) and the console softphone (in-process) so that both post exactly
what a real phone line would make Twilio post. Flask-free.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import urljoin, urlsplit

from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
TWILIO_API = "https://api.twilio.com"   # Twilio's REST API, where its RecordingUrls point
VOICE_PATH = "/twilio/voice"            # the numbers' "A call comes in" URL
STATUS_PATH = "/twilio/voice/status"    # the numbers' call status callback URL
SMS_PATH = "/twilio/sms"                # the numbers' "A message comes in" URL
# Longest prefix wins; Twilio reports the ISO country of a number in the *Country fields.
COUNTRY_PREFIXES = {"1": "US", "44": "GB", "61": "AU", "65": "SG", "81": "JP", "82": "KR",
                    "86": "CN", "852": "HK", "853": "MO", "886": "TW"}
# GSM-7 texts fit 160 characters in one SMS (153 per part); anything else goes as UCS-2 (70, 67 per part).
_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")


def new_sid(prefix: str) -> str:
    """A Twilio-shaped identifier: two letters and 32 hex digits (CA… calls, SM… messages, RE… recordings)."""
    return prefix + secrets.token_hex(16)


def recordings_prefix(api_base_url: str, account: str) -> str:
    """Where an account's recordings live: a RecordingUrl is this prefix and the recording's SID."""
    return f"{api_base_url.rstrip('/')}/{API_VERSION}/Accounts/{account}/Recordings/"


def placeholder_account() -> str:
    """The AccountSid local mode posts with (there is no account)."""
    return "AC" + "0" * 32


def country_of(number: str) -> str:
    """The ISO country Twilio reports for an E.164 number ('' when unknown)."""
    digits = number[1:] if number.startswith("+") else ""
    for length in (3, 2, 1):
        if digits[:length] in COUNTRY_PREFIXES:
            return COUNTRY_PREFIXES[digits[:length]]
    return ""


def _geo(prefix: str, number: str) -> dict[str, str]:
    # Twilio always sends the geographic fields, mostly empty outside North America.
    return {f"{prefix}Country": country_of(number), f"{prefix}State": "", f"{prefix}City": "", f"{prefix}Zip": ""}


def call_params(sid: str, account: str, from_: str, to: str, status: str,
                direction: str = "inbound", **extra: str) -> dict[str, str]:
    """The parameters Twilio sends on every voice webhook of a call."""
    params = {"CallSid": sid, "AccountSid": account, "From": from_, "To": to, "Caller": from_, "Called": to,
              "CallStatus": status, "Direction": direction, "ApiVersion": API_VERSION,
              **_geo("From", from_), **_geo("To", to), **_geo("Caller", from_), **_geo("Called", to)}
    params.update(extra)
    return params


def status_params(base: dict[str, str], status: str, sequence: int, **extra: str) -> dict[str, str]:
    """A call status callback: the call's parameters plus CallbackSource, SequenceNumber and Timestamp."""
    return {**base, "CallStatus": status, "CallbackSource": "call-progress-events", "SequenceNumber": str(sequence),
            "Timestamp": format_datetime(datetime.now(timezone.utc)), **extra}


def count_segments(body: str) -> int:
    """How many SMS parts Twilio splits `body` into (GSM-7 or UCS-2)."""
    single, part = (160, 153) if all(ch in _GSM7 for ch in body) else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // part)


def sms_params(sid: str, account: str, from_: str, to: str, body: str) -> dict[str, str]:
    """The parameters of Twilio's "A message comes in" webhook."""
    return {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": account, "From": from_,
            "To": to, "Body": body, "NumMedia": "0", "NumSegments": str(count_segments(body)),
            "SmsStatus": "received", "ApiVersion": API_VERSION, **_geo("From", from_), **_geo("To", to)}


def path_of(url: str, current: str = "/") -> str:
    """The path and query Twilio requests for `url` (absolute, or relative to the current document)."""
    parts = urlsplit(urljoin("http://twilio.invalid" + current, (url or "").strip()))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def signed_headers(auth_token: str, public_base_url: str, path: str, params: dict[str, str]) -> dict[str, str]:
    """One delivery's headers: Twilio's signature over PUBLIC_BASE_URL + path + params, a new idempotency token."""
    signature = RequestValidator(auth_token).compute_signature(public_base_url.rstrip("/") + path, params)
    return {"X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": secrets.token_hex(16),
            "User-Agent": "TwilioProxy/1.1"}
