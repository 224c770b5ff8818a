"""Webhooks posted over real HTTP and signed exactly as Twilio signs them; every answer is recorded."""
from __future__ import annotations

import secrets
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from twilio.request_validator import RequestValidator

from tests.twilio_client import API_VERSION, country_of, next_action
from tests.twilio_fake import count_segments


@dataclass
class Answer:
    """One webhook delivery and what the app said."""

    path: str
    params: dict
    token: str
    signature: str | None
    status: int = 0
    text: str = ""
    error: str = ""

    def root(self) -> ET.Element | None:
        if self.status != 200:
            return None
        try:
            return ET.fromstring(self.text)
        except ET.ParseError:
            return None

    def says(self) -> str:
        root = self.root()
        return "".join(root.itertext()) if root is not None else ""

    def next_path(self, current: str) -> str | None:
        root = self.root()
        return next_action(root, current) if root is not None else None


@dataclass
class Stats:
    """What the driver saw, across threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    by_status: dict = field(default_factory=dict)
    server_errors: list = field(default_factory=list)     # (path, status)
    connection_errors: list = field(default_factory=list)  # (path, error)

    def note(self, answer: Answer) -> None:
        with self.lock:
            self.requests += 1
            self.by_status[answer.status] = self.by_status.get(answer.status, 0) + 1
            if answer.status >= 500:
                self.server_errors.append((answer.path, answer.status))
            if answer.error:
                self.connection_errors.append((answer.path, answer.error))


def _geo(prefix: str, number: str) -> dict[str, str]:
    return {f"{prefix}Country": country_of(number), f"{prefix}State": "", f"{prefix}City": "", f"{prefix}Zip": ""}


class Webhooks:
    """Posts form-encoded webhooks to the app at `base_url` (also the PUBLIC_BASE_URL signatures cover)."""

    def __init__(self, base_url: str, auth_token: str, account_sid: str, stats: Stats):
        self.base_url = base_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.wrong = RequestValidator(auth_token[::-1] + "x")
        self.account_sid = account_sid
        self.stats = stats
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def path_of(self, url_or_path: str) -> str:
        parts = urlsplit(url_or_path)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def sign(self, path: str, params: dict, how: str = "ok") -> str | None:
        """X-Twilio-Signature: `ok`, `none` (absent), `wrong` (another token), `url` (another URL)."""
        if how == "none":
            return None
        if how == "wrong":
            return self.wrong.compute_signature(self.base_url + path, params)
        if how == "url":
            return self.validator.compute_signature(self.base_url + "/twilio/fallback", params)
        return self.validator.compute_signature(self.base_url + path, params)

    def post(self, path: str, params: dict, sign: str = "ok", token: str | None = None,
             tamper: dict | None = None) -> Answer:
        """POST once; `tamper` changes parameters after signing (a forged request)."""
        path = self.path_of(path)
        params = {k: str(v) for k, v in params.items() if v is not None}
        signature = self.sign(path, params, sign)
        sent = {**params, **(tamper or {})}
        answer = Answer(path, sent, token or secrets.token_hex(16), signature)
        return self.deliver(answer)

    def deliver(self, answer: Answer) -> Answer:
        """(Re)deliver exactly this request: same parameters, same signature, same idempotency token."""
        # A fresh connection per request, as Twilio's webhook client makes: no race with the server closing an
        # idle keep-alive connection just as it is reused (which would read as a failure of the app).
        headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": answer.token,
                   "Connection": "close"}
        if answer.signature is not None:
            headers["X-Twilio-Signature"] = answer.signature
        copy = Answer(answer.path, answer.params, answer.token, answer.signature)
        try:
            resp = self._session().post(self.base_url + answer.path, data=answer.params, headers=headers,
                                        timeout=40)
            copy.status, copy.text = resp.status_code, resp.text
        except requests.RequestException as exc:
            copy.error = f"{type(exc).__name__}: {str(exc)[:160]}"
        self.stats.note(copy)
        return copy

    def sms_params(self, from_: str, to: str, body: str, sid: str | None = None) -> dict:
        sid = sid or "SM" + secrets.token_hex(16)
        return {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": self.account_sid,
                "From": from_, "To": to, "Body": body, "NumMedia": "0", "NumSegments": str(count_segments(body)),
                "SmsStatus": "received", "ApiVersion": API_VERSION, **_geo("From", from_), **_geo("To", to)}


class Call:
    """One inbound call: its CallSid and base parameters across webhooks, and where TwiML sends it next."""

    def __init__(self, hooks: Webhooks, from_: str, to: str, sid: str | None = None):
        self.hooks, self.from_, self.to = hooks, from_, to
        self.sid = sid or "CA" + secrets.token_hex(16)
        self.status_value = "ringing"
        self.sequence = 0
        self.last_path = "/twilio/voice"

    def params(self, **extra) -> dict:
        base = {"CallSid": self.sid, "AccountSid": self.hooks.account_sid, "From": self.from_, "To": self.to,
                "Caller": self.from_, "Called": self.to, "CallStatus": self.status_value, "Direction": "inbound",
                "ApiVersion": API_VERSION, **_geo("From", self.from_), **_geo("To", self.to),
                **_geo("Caller", self.from_), **_geo("Called", self.to)}
        base.update(extra)
        return base

    def post(self, path: str, **extra) -> Answer:
        answer = self.hooks.post(path, self.params(**extra))
        self.last_path = self.hooks.path_of(path)
        if self.status_value == "ringing":
            self.status_value = "in-progress"
        return answer

    def next_of(self, answer: Answer) -> str | None:
        return answer.next_path(self.last_path)

    def status_params(self, call_status: str, **extra) -> dict:
        self.status_value = call_status
        params = self.params(CallbackSource="call-progress-events", SequenceNumber=str(self.sequence),
                             Timestamp=time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()), **extra)
        self.sequence += 1
        return params
