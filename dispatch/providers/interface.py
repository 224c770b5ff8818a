"""The neutral phone-provider interface: an SMS is text, a call is a script; errors are the project's own.

Nothing here knows a provider. A call script says what is said and which key is asked for; where the
answer goes is a named conversation of the app (a `Target`), never a URL: each adapter maps targets to its
own mechanism (Twilio: our webhook URLs; a template-based provider: its templates and callbacks).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Protocol, cast


class ProviderError(Exception):
    """A send failed; `permanent` says whether retrying can help (`code`, `status`: the provider's, for the log).

    `uncertain`: the request may have reached the provider (a timeout waiting for its answer), so the message
    may have gone out. `recipient_limited`: the provider refuses more messages to this number for now (an
    offer then goes to the next technician rather than wait).
    """

    def __init__(self, message: str, code: int | str | None = None, status: int | None = None,
                 permanent: bool = False, uncertain: bool = False, recipient_limited: bool = False):
        super().__init__(message)
        self.code = code
        self.status = status
        self.permanent = permanent
        self.uncertain = uncertain
        self.recipient_limited = recipient_limited


@dataclass(frozen=True)
class Outgoing:
    """What the outbox knows of an SMS or call besides its text: its key, which text it is (`kind`, a key of
    dispatch/texts) with its parameters, which attempt this is (a retry may follow a send that went out), and the
    row's id (`message_id`: a short reference for providers that allow only a few bytes, e.g. Alibaba's OutId)."""

    key: str = ""
    kind: str = ""
    params: dict = field(default_factory=dict)
    attempt: int = 1
    message_id: int = 0


@dataclass(frozen=True)
class Sent:
    """What the provider said about an accepted message or call."""

    sid: str
    status: str


class Spoken(str):
    """A call sentence read back from an outbox body that remembers which text it is (`kind`) and its parameters,
    as dispatch.texts' Rendered does: a template-based provider (Alibaba's TTS) says the template, not the text."""

    kind: str
    params: dict[str, str]

    def __new__(cls, text: str, kind: str, params: dict[str, str]) -> Spoken:
        """The sentence `text` of kind `kind`, rendered from `params`."""
        spoken = super().__new__(cls, text)
        spoken.kind, spoken.params = kind, params
        return spoken


def kind_of(sentence: str) -> tuple[str, dict[str, str]]:
    """A sentence's kind and parameters when it was rendered from one text ("" and {} otherwise)."""
    return getattr(sentence, "kind", ""), dict(getattr(sentence, "params", {}) or {})


@dataclass(frozen=True)
class Target:
    """Where a call's answer goes: a conversation of the app by name ("case-ack", "satisfaction") and its arguments."""

    name: str
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class KeyQuestion:
    """One key asked for while the sentences are said: the keys that mean something, how long to wait after."""

    keys: str
    wait_seconds: int
    answer: Target


@dataclass(frozen=True)
class CallScript:
    """An automated call: sentences said slowly `repeat` times, an optional key question, then hang up.

    `then` hands the answered call to a dialogue of the app instead (the satisfaction call asks its question
    from the IVR's prompts). `verbatim` is a body in a provider's own format, queued by an earlier release
    (Twilio TwiML): only the adapter that wrote it can send it.
    """

    language: str
    sentences: tuple[str, ...] = ()
    repeat: int = 2
    question: KeyQuestion | None = None
    then: Target | None = None
    verbatim: str = ""

    def to_body(self) -> str:
        """The script as the outbox row's body (JSON, readable in the database)."""
        question = None if self.question is None else {
            "keys": self.question.keys, "wait_seconds": self.question.wait_seconds,
            "answer": _target_json(self.question.answer)}
        # Each sentence's kind and parameters too (null for free text): a template-based provider needs them.
        kinds = [[kind, params] if kind else None for kind, params in map(kind_of, self.sentences)]
        return json.dumps({"script": 1, "language": self.language, "sentences": list(self.sentences),
                           "kinds": kinds, "repeat": self.repeat, "question": question,
                           "then": _target_json(self.then)}, ensure_ascii=False)


def script_of(body: str | None) -> CallScript:
    """The script of a call's outbox body; a body that is not one (TwiML of an earlier release) comes back verbatim."""
    try:
        data = json.loads(body or "")
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("script") != 1:
        return CallScript(language="", repeat=0, verbatim=body or "")
    raw = data.get("question")
    question = None if raw is None else KeyQuestion(raw["keys"], int(raw["wait_seconds"]),
                                                       cast(Target, _target(raw["answer"])))
    sentences = tuple(data.get("sentences") or ())
    kinds = list(data.get("kinds") or ())  # absent in bodies queued before the kinds were kept
    kinds += [None] * (len(sentences) - len(kinds))
    sentences = tuple(Spoken(text, kind[0], dict(kind[1])) if kind else text for text, kind in zip(sentences, kinds))
    return CallScript(language=data["language"], sentences=sentences,
                      repeat=int(data.get("repeat", 1)), question=question, then=_target(data.get("then")))


def _target_json(target: Target | None) -> list | None:
    return None if target is None else [target.name, target.args]


def _target(raw) -> Target | None:
    return None if raw is None else Target(raw[0], dict(raw[1]))


class PhoneProvider(Protocol):
    """Sends SMS and places scripted calls; raises ProviderError, never a provider's own exception."""

    local: bool

    def send_sms(self, to: str, text: str, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Send one SMS (`sender`: the number or signature to send from, "" for the provider's own; `about`: the
        outbox row's key, kind and parameters, which template-based providers send instead of the text)."""

    def place_call(self, to: str, script: CallScript, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Place one automated call that plays `script` (`about`: the outbox row's key, id and attempt)."""
