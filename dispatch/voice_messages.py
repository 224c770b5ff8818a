"""TwiML for outbound notification calls (landlines cannot read an SMS)."""
from __future__ import annotations

from twilio.twiml.voice_response import Gather, Say, VoiceResponse

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


def acknowledgement_call(language: str, sentence: str, action_url: str) -> str:
    """A call that reads `sentence` and takes one key: 1 acknowledges (the action URL records it)."""
    lang, voice = VOICES.get(language, VOICES["zh-CN"])
    response = VoiceResponse()
    gather = Gather(num_digits=1, timeout=10, action=action_url, method="POST")
    for _ in range(2):
        say = Say(language=lang, voice=voice)
        say.prosody(sentence, rate="slow")
        gather.append(say)
    response.append(gather)
    response.hangup()
    return str(response)
