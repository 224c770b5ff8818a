"""TwiML for the phone trees, built only with twilio.twiml builders (never string formatting)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from functools import lru_cache
from typing import Callable, Iterable

from twilio.twiml import TwiML
from twilio.twiml.voice_response import Dial, Gather, Say, VoiceResponse

from .engine import Turn
from .prompts import catalogue, text

UrlFor = Callable[..., str]  # (route name, **query params) -> URL
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_OPEN, _CLOSE = XML_DECLARATION + "<Response>", "</Response>"


def document(response: TwiML) -> str:
    """The builders' tree as the TwiML document `str(response)` is, serialised straight to text: twilio's own
    `to_xml` encodes to UTF-8 through a text wrapper and decodes the bytes again (a quarter of a webhook's
    TwiML time)."""
    return XML_DECLARATION + ET.tostring(response.xml(), encoding="unicode")


def _spliced(first: VoiceResponse, rest: str) -> str:
    """One document: the verbs `first` holds, then those of the document `rest` (both made by the builders, so
    every text in them is escaped as ElementTree escapes it; `rest` is a memoised document)."""
    head = document(first)
    if not (head.startswith(_OPEN) and head.endswith(_CLOSE) and rest.startswith(_OPEN) and rest.endswith(_CLOSE)):
        raise ValueError("only documents whose <Response> holds verbs can be spliced")
    return head[:-len(_CLOSE)] + rest[len(_OPEN):]


def say(parent, language: str, sentence: str) -> None:
    """Speak one sentence slowly in the language's named voice."""
    cat = catalogue(language)
    verb = Say(language=cat["_language"], voice=cat["_voice"])
    verb.prosody(sentence, rate="slow")
    parent.append(verb)


def render_turn(turn: Turn, language: str, gather_url: str, timeout: int) -> VoiceResponse:
    """A turn that asks for a key: sentences, then a one-key Gather (its lead, then the prompt) that also reports
    silence."""
    response = VoiceResponse()
    for sentence in turn.say:
        say(response, language, sentence)
    gather = Gather(num_digits=1, timeout=timeout, action=gather_url, method="POST",
                    action_on_empty_result=True, finish_on_key="")
    for sentence in turn.lead:
        say(gather, language, sentence)
    say(gather, language, turn.prompt)
    response.append(gather)
    # Reached only if Twilio ignores actionOnEmptyResult: treat as silence rather than hang up.
    response.redirect(gather_url, method="POST")
    return response


@lru_cache(maxsize=1024)
def turn_xml(turn: Turn, language: str, gather_url: str, timeout: int) -> str:
    """render_turn() as a TwiML document, memoised: a menu turn is the same text for every caller at that
    state, so most webhooks reuse the document the builders made (Turn is frozen, hence a safe key)."""
    return document(render_turn(turn, language, gather_url, timeout))


def turn_document(turn: Turn, language: str, gather_url: str, timeout: int) -> str:
    """render_turn() as text. What is said before the Gather (a known caller's greeting by name) is rendered
    afresh; the Gather and the redirect, the same for every caller at that state, come from turn_xml's memo, so
    no caller's name is kept. A turn whose Gather itself carries a greeting (the child-line key first) is
    rendered whole."""
    if not turn.say or turn.lead:
        return document(render_turn(turn, language, gather_url, timeout))
    return _spliced(speak(language, turn.say), turn_xml(replace(turn, say=()), language, gather_url, timeout))


def speak_document(language: str, sentences: Iterable[str], fixed: tuple[str, ...], hangup: bool = False) -> str:
    """speak(language, [*sentences, *fixed], hangup=hangup) as text: `sentences` (an order's code) rendered
    afresh, the `fixed` ones and the hang-up memoised per language."""
    return _spliced(speak(language, sentences), _fixed_speech(language, fixed, hangup))


@lru_cache(maxsize=256)
def _fixed_speech(language: str, sentences: tuple[str, ...], hangup: bool) -> str:
    return document(speak(language, sentences, hangup=hangup))


def speak(language: str, sentences: Iterable[str], then_redirect: str | None = None,
          hangup: bool = False) -> VoiceResponse:
    """Sentences, then optionally a redirect or a hang-up."""
    response = VoiceResponse()
    for sentence in sentences:
        say(response, language, sentence)
    if then_redirect:
        response.redirect(then_redirect, method="POST")
    elif hangup:
        response.hangup()
    return response


def dial_tier(language: str, numbers: list[tuple[str, str]], action_url: str, timeout: int,
              before: Iterable[str] = (), caller_id: str | None = None) -> VoiceResponse:
    """Ring every (number, screening URL) of one tier at once; the action URL decides what follows.

    Without `caller_id` Twilio shows the caller's own number, so the officer can call back.
    """
    response = VoiceResponse()
    for sentence in before:
        say(response, language, sentence)
    dial = Dial(action=action_url, method="POST", timeout=timeout, answer_on_bridge=True, caller_id=caller_id)
    for number, screen_url in numbers:
        dial.number(number, url=screen_url, method="POST")
    response.append(dial)
    return response


def screening(language: str, prompt_key: str, answer_url: str) -> VoiceResponse:
    """On the officer's leg: one key, 1 accepts; silence or voicemail hangs the leg up."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, timeout=8, action=answer_url, method="POST", finish_on_key="")
    say(gather, language, text(language, prompt_key))
    response.append(gather)
    response.hangup()
    return response


def record_message(language: str, action_url: str, max_length: int = 180) -> VoiceResponse:
    """Ask for a message and record it (the action URL stores it and says thank you)."""
    response = VoiceResponse()
    say(response, language, text(language, "nobody_answered"))
    response.record(action=action_url, method="POST", max_length=max_length, play_beep=True,
                    finish_on_key="#", timeout=10)
    # If nothing was recorded Twilio continues here: the call still ends politely.
    say(response, language, text(language, "goodbye"))
    response.hangup()
    return response


def ask_key(language: str, rounds: Iterable[Iterable[str]], action_url: str, timeout: int,
            closing: str) -> VoiceResponse:
    """A one-key question: each round of sentences in a Gather of its own (silence asks the next round), then
    `closing` and hang up. `#` is a key like any other there (finishOnKey empty), not an empty answer."""
    response = VoiceResponse()
    for sentences in rounds:
        gather = Gather(num_digits=1, timeout=timeout, action=action_url, method="POST", finish_on_key="")
        for sentence in sentences:
            say(gather, language, sentence)
        response.append(gather)
    say(response, language, closing)
    response.hangup()
    return response


def ask_digits(language: str, sentences: Iterable[str], count: int, action_url: str, timeout: int,
               then_redirect: str) -> VoiceResponse:
    """Ask for `count` digits (a code) in one Gather; silence goes on to `then_redirect`."""
    response = VoiceResponse()
    gather = Gather(num_digits=count, timeout=timeout, action=action_url, method="POST")
    for sentence in sentences:
        say(gather, language, sentence)
    response.append(gather)
    response.redirect(then_redirect, method="POST")
    return response


def transfer(language: str, sentences: Iterable[str], number: str, timeout: int = 30) -> VoiceResponse:
    """Sentences, then connect the caller to `number` (its ringing, not ours, is what the caller hears)."""
    response = speak(language, sentences)
    response.dial(number, timeout=timeout, answer_on_bridge=True)
    return response


def hangup() -> VoiceResponse:
    """Just end this leg."""
    response = VoiceResponse()
    response.hangup()
    return response


def empty() -> VoiceResponse:
    """An empty response (used to let a screened leg bridge)."""
    return VoiceResponse()
