"""One provider for SMS and another for calls, as SMS_PROVIDER and VOICE_PROVIDER name them."""
from __future__ import annotations

from datetime import datetime

from .events import DeliveryReceipt
from .interface import CallScript, Outgoing, PhoneProvider, Sent


class SplitProvider:
    """SMS through one provider, calls through another (SMS_PROVIDER=aliyun with VOICE_PROVIDER=twilio)."""

    def __init__(self, sms: PhoneProvider, voice: PhoneProvider):
        self.sms, self.voice = sms, voice
        self.local = sms.local and voice.local

    def send_sms(self, to: str, text: str, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Send the SMS through the SMS provider."""
        return self.sms.send_sms(to, text, sender, about)

    def place_call(self, to: str, script: CallScript, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Place the call through the voice provider."""
        return self.voice.place_call(to, script, sender, about)

    def look_up_receipt(self, to: str, out_id: str, sent_at: datetime) -> DeliveryReceipt | None:
        """Ask the SMS provider what became of an SMS, if it can be asked (Alibaba); else None."""
        look_up = getattr(self.sms, "look_up_receipt", None)
        return look_up(to, out_id, sent_at) if look_up is not None else None
