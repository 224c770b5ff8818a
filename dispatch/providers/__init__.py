"""Phone providers: the neutral interface and inbound events, the local outbox and the Twilio, Alibaba Cloud and
Tencent Cloud adapters of the sending side; SMS_PROVIDER and VOICE_PROVIDER (by default both PHONE_PROVIDER) pick them.

Everything Twilio of the sending side (REST, transport, error codes, TwiML) lives in `twilio.py` and
`twilio_transport.py`; Alibaba's SMS in `aliyun.py`, its voice service in `aliyun_voice.py`; the rest of dispatch
sees only `interface.py`. A new provider is a module with a
`from_settings(settings)` and one line in PROVIDERS. Imports: models (and dispatch.providers.webhook_urls).
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from .events import CallReport, DeliveryReceipt, InboundSms, KeyPress
from .interface import CallScript, KeyQuestion, Outgoing, PhoneProvider, ProviderError, Sent, Target, script_of
from .local import LocalOutbox
from .split import SplitProvider

if TYPE_CHECKING:  # type-only: providers sit below dispatch's modules at run time
    from ..settings import DispatchSettings

# Provider name (PHONE_PROVIDER) -> the adapter module; imported only when chosen (no twilio import otherwise).
PROVIDERS = {"local": "dispatch.providers.local", "twilio": "dispatch.providers.twilio",
             "aliyun": "dispatch.providers.aliyun", "tencent": "dispatch.providers.tencent"}
# Where a provider's calls are placed by another module than its SMS (Alibaba's voice service is another product).
VOICE_MODULES = {**PROVIDERS, "aliyun": "dispatch.providers.aliyun_voice"}
# Providers that send SMS only (Tencent Cloud's voice service is another product, not adapted).
SMS_ONLY = {"tencent"}

__all__ = ["CallReport", "CallScript", "DeliveryReceipt", "InboundSms", "KeyPress", "KeyQuestion", "LocalOutbox",
           "Outgoing", "PhoneProvider", "PROVIDERS", "ProviderError", "Sent", "Target", "VOICE_MODULES",
           "build_provider", "SplitProvider", "script_of"]


def build_provider(settings: DispatchSettings) -> PhoneProvider:
    """The provider the settings name: SMS_PROVIDER for SMS and VOICE_PROVIDER for calls, each by default
    PHONE_PROVIDER (Twilio with credentials, else the local outbox); one adapter when one module does both."""
    sms, voice = settings.sms_provider_name, settings.voice_provider_name
    for variable, name in (("SMS_PROVIDER", sms), ("VOICE_PROVIDER", voice)):
        if name not in PROVIDERS:
            raise ValueError(f"{variable} (or PHONE_PROVIDER) must be one of {', '.join(sorted(PROVIDERS))}, "
                             f"not {name!r}")
    if voice in SMS_ONLY:
        raise ValueError(f"VOICE_PROVIDER (or PHONE_PROVIDER) {voice!r} sends SMS only: "
                         "set VOICE_PROVIDER=twilio, aliyun or local")
    sms_module, voice_module = PROVIDERS[sms], VOICE_MODULES[voice]
    if sms_module == voice_module:
        return import_module(sms_module).from_settings(settings)
    return SplitProvider(import_module(sms_module).from_settings(settings),
                         import_module(voice_module).from_settings(settings))

