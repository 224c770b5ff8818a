"""TwiML for outbound notification calls (landlines cannot read an SMS)."""
from __future__ import annotations

from twilio.twiml.voice_response import Say, VoiceResponse

VOICES = {"zh-CN": ("cmn-CN", "Polly.Zhiyu"), "en": ("en-US", "Polly.Joanna")}


def spoken_notification(language: str, sentence: str) -> str:
    """A call that says `sentence` slowly twice, then hangs up."""
    lang, voice = VOICES.get(language, VOICES["zh-CN"])
    response = VoiceResponse()
    for _ in range(2):
        say = Say(language=lang, voice=voice)
        say.prosody(sentence, rate="slow")
        response.append(say)
        response.pause(length=1)
    response.hangup()
    return str(response)
