"""The Twilio adapter of the sending side: REST client, error codes, and a call script rendered as TwiML.

The only module that imports `twilio.rest`, and the only one that knows the webhook routes a call's answer
goes to (TARGET_ROUTES): the rest of dispatch names a target ("case-ack"), this module makes it a URL.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from twilio.twiml.voice_response import Gather, Say, VoiceResponse

from .interface import CallScript, Outgoing, ProviderError, Sent, Target
from .webhook_urls import webhook_url

if TYPE_CHECKING:  # type-only: providers sit below dispatch's modules at run time
    from ..settings import DispatchSettings

# Twilio error codes that will not get better by retrying.
PERMANENT_CODES = {21211, 21214, 21217, 21401, 21407, 21408, 21421, 21601, 21602, 21603, 21604,
                   21606, 21608, 21610, 21612, 21614, 21617, 30003, 30004, 30005, 30006, 30007}
RATE_LIMITED = 20429
# A script's language as Twilio's <Say> language and voice (Mandarin by default).
VOICES = {"zh-CN": ("cmn-CN", "Polly.Zhiyu"), "en": ("en-US", "Polly.Joanna")}
# Where each answer target is posted: the web app's webhook routes (hotline/ serves them).
TARGET_ROUTES = {"case-ack": "/twilio/voice/ack", "satisfaction": "/twilio/voice/satisfaction",
                 "arrival": "/twilio/voice/arrival"}


class TwilioProvider:
    """Twilio's REST API (or a Twilio-compatible provider at another base URL)."""

    local = False

    def __init__(self, account_sid: str, auth_token: str, base_url: str, timeout: float, public_base_url: str = "",
                 sender: str = ""):
        from twilio.rest import Client

        from .twilio_transport import PooledHttpClient

        # twilio-python has no HTTP timeout by default; a hung provider must not hang a worker. Built once
        # per worker: its pool keeps the provider connection alive from one send to the next.
        self._client = Client(account_sid, auth_token, http_client=PooledHttpClient(base_url, timeout))
        self._client.api.base_url = base_url.rstrip("/")
        self._public_base_url = public_base_url
        self._sender = sender

    def send_sms(self, to: str, text: str, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Send one SMS through Twilio."""
        from_ = sender or self._sender
        msg = self._call(lambda: self._client.messages.create(to=to, from_=from_, body=text))
        return Sent(sid=msg.sid, status=msg.status or "queued")

    def place_call(self, to: str, script: CallScript, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Place a call through Twilio that plays the script as inline TwiML."""
        if not (script.language or script.verbatim):
            raise ProviderError("not a call script", permanent=True)  # an empty or mangled outbox body
        twiml, from_ = render_call(script, self._public_base_url), sender or self._sender
        call = self._call(lambda: self._client.calls.create(to=to, from_=from_, twiml=twiml))
        return Sent(sid=call.sid, status=call.status or "queued")

    @staticmethod
    def _call(fn):
        from twilio.base.exceptions import TwilioException, TwilioRestException
        from urllib3.exceptions import HTTPError as TransportError

        try:
            return fn()
        except TwilioRestException as exc:
            permanent = exc.code in PERMANENT_CODES or (exc.status in (400, 404) and exc.code != RATE_LIMITED)
            raise ProviderError(f"twilio {exc.status}/{exc.code}", exc.code, exc.status, permanent) from None
        except TwilioException as exc:
            raise ProviderError(f"twilio error: {type(exc).__name__}") from None
        except (TransportError, OSError) as exc:  # timeouts, refused or dropped connections
            raise ProviderError(f"network error: {type(exc).__name__}") from None


def from_settings(settings: DispatchSettings) -> TwilioProvider:
    """The Twilio adapter for these settings (TWILIO_*, PUBLIC_BASE_URL, the sending number)."""
    if not settings.twilio_account_sid:
        raise ValueError("PHONE_PROVIDER=twilio needs TWILIO_ACCOUNT_SID")
    return TwilioProvider(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_base_url,
                          settings.twilio_timeout_seconds, settings.public_base_url, settings.sender)


def target_url(public_base_url: str, target: Target) -> str:
    """The webhook URL Twilio posts an answer target to (its query ends with the `end=1` terminator)."""
    return webhook_url(public_base_url, TARGET_ROUTES[target.name], target.args)


def render_call(script: CallScript, public_base_url: str) -> str:
    """The TwiML of a call script; a verbatim body (TwiML queued by an earlier release) as it is."""
    if script.verbatim:
        return script.verbatim
    lang, voice = VOICES.get(script.language, VOICES["zh-CN"])
    response = VoiceResponse()
    if script.question is not None:
        question = script.question
        # Said inside the Gather so a key pressed mid-sentence counts; silence falls through to the hangup.
        gather = Gather(num_digits=1, timeout=question.wait_seconds,
                        action=target_url(public_base_url, question.answer), method="POST")
        for _ in range(script.repeat):
            for sentence in script.sentences:
                gather.append(_say(lang, voice, sentence))
        response.append(gather)
    else:
        for _ in range(script.repeat):
            for sentence in script.sentences:
                response.append(_say(lang, voice, sentence))
            if script.sentences:
                response.pause(length=1)  # a breath between the repetitions of a notification
    if script.then is not None:
        response.redirect(target_url(public_base_url, script.then), method="POST")
    else:
        response.hangup()
    return str(response)


def _say(lang: str, voice: str, sentence: str) -> Say:
    say = Say(language=lang, voice=voice)
    say.prosody(sentence, rate="slow")  # older callers: slow speech
    return say
