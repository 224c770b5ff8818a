"""Phone providers (being split into interface, local outbox and Twilio adapter)."""
from .twilio import LocalOutbox, PhoneProvider, ProviderError, Sent, TwilioProvider, build_provider

__all__ = ["LocalOutbox", "PhoneProvider", "ProviderError", "Sent", "TwilioProvider", "build_provider"]
