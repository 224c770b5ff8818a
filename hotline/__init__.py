"""Web and wiring: configuration, the app factory, webhooks, the JSON API and the CLI."""
from .factory import create_app

__all__ = ["create_app"]
