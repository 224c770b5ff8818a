"""The bare stack: Flask under the same gunicorn, checking Twilio's signature and answering fixed TwiML."""
from __future__ import annotations

from flask import Flask

from hotline.config import load_settings

from .anchor import create_anchor


def create_app() -> Flask:
    """The bare app: PUBLIC_BASE_URL and TWILIO_AUTH_TOKEN as the hotline's settings read them; fixed TwiML."""
    settings = load_settings()
    return create_anchor(settings.public_base_url, settings.twilio_auth_token)
