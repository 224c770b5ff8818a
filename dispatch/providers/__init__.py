"""Phone providers: the neutral interface and inbound events, the local outbox and the Twilio adapter of the
sending side; PHONE_PROVIDER picks the provider.

Everything Twilio of the sending side (REST, transport, error codes, TwiML) lives in `twilio.py` and
`twilio_transport.py`; the rest of dispatch sees only `interface.py`. A new provider is a module with a
`from_settings(settings)` and one line in PROVIDERS. Imports: models (and dispatch.providers.webhook_urls).
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from .events import InboundSms, KeyPress
from .interface import CallScript, KeyQuestion, PhoneProvider, ProviderError, Sent, Target, script_of
from .local import LocalOutbox

if TYPE_CHECKING:  # type-only: providers sit below dispatch's modules at run time
    from ..settings import DispatchSettings

# Provider name (PHONE_PROVIDER) -> the adapter module; imported only when chosen (no twilio import otherwise).
PROVIDERS = {"local": "dispatch.providers.local", "twilio": "dispatch.providers.twilio"}

__all__ = ["CallScript", "InboundSms", "KeyPress", "KeyQuestion", "LocalOutbox", "PhoneProvider", "PROVIDERS",
           "ProviderError", "Sent", "Target", "build_provider", "script_of"]


def build_provider(settings: DispatchSettings) -> PhoneProvider:
    """The provider the settings name (PHONE_PROVIDER; by default Twilio with credentials, else the local outbox)."""
    name = settings.phone_provider_name
    if name not in PROVIDERS:
        raise ValueError(f"PHONE_PROVIDER must be one of {', '.join(sorted(PROVIDERS))}, not {name!r}")
    return import_module(PROVIDERS[name]).from_settings(settings)
