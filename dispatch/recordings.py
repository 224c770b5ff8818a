"""A call recording fetched from the provider with the account's credentials.

Recordings of the child line are about children: the account should require HTTP authentication for
media (Twilio console → Voice → Settings → "Enforce HTTP Auth on Media URLs"). Then a browser cannot
play a RecordingUrl itself; the console asks for it here, on behalf of a duty officer, and streams it.
Only URLs of this account's recordings under the configured API base are fetched, never any other
address a request could name.
"""
from __future__ import annotations

import requests

from .settings import DispatchSettings

MAX_BYTES = 50 * 1024 * 1024  # a 3-minute message is about 1.5 MB as MP3


class RecordingUnavailable(Exception):
    """The recording cannot be fetched: local mode, a foreign URL, or the provider refused or failed."""


def media_url(settings: DispatchSettings, recording_url: str | None) -> str | None:
    """The MP3 address of a recording of this account, or None for anything else."""
    if settings.local_mode or not recording_url:
        return None
    prefix = f"{settings.twilio_api_base_url.rstrip('/')}/2010-04-01/Accounts/{settings.twilio_account_sid}/Recordings/"
    sid = recording_url[len(prefix):] if recording_url.startswith(prefix) else ""
    sid = sid.removesuffix(".mp3").removesuffix(".wav")
    if not (sid.startswith("RE") and sid[2:].isalnum() and sid.isascii()):
        return None
    return f"{prefix}{sid}.mp3"


def fetch(settings: DispatchSettings, recording_url: str | None) -> bytes:
    """The recording's MP3 bytes, fetched with the account's credentials."""
    url = media_url(settings, recording_url)
    if url is None:
        raise RecordingUnavailable("not a recording of this account")
    try:
        resp = requests.get(url, auth=(settings.twilio_account_sid, settings.twilio_auth_token),
                            timeout=settings.twilio_timeout_seconds, stream=True)
        if resp.status_code != 200:
            raise RecordingUnavailable(f"provider answered {resp.status_code}")
        body = resp.raw.read(MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise RecordingUnavailable(f"network error: {type(exc).__name__}") from None
    if len(body) > MAX_BYTES:
        raise RecordingUnavailable("recording too large")
    return body
