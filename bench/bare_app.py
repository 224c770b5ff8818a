"""The bare stack: Flask under the same gunicorn, checking Twilio's signature and answering fixed TwiML."""
from __future__ import annotations

import os

from flask import Flask

from .anchor import create_anchor


def create_app() -> Flask:
    """The bare app: PUBLIC_BASE_URL and TWILIO_AUTH_TOKEN from the environment, three fixed documents."""
    return create_anchor(os.environ["PUBLIC_BASE_URL"], os.environ["TWILIO_AUTH_TOKEN"])
