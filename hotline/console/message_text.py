"""What a sent message said, fit for a console table: numbers masked, a call's script read as its words."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from dispatch.providers import script_of
from models.phone import mask, try_normalise

# Runs of 7+ digits, possibly spaced or dashed (a call reads numbers digit by digit: "1 3 9 0 4 …").
MIN_DIGITS = 7
_NUMBERISH = re.compile(r"\+?\d(?:[\d\- ]{5,})\d")


def _mask_run(match: re.Match) -> str:
    raw = re.sub(r"[\- ]", "", match.group(0))
    if len(raw.lstrip("+")) < MIN_DIGITS:
        return match.group(0)  # a code read digit by digit ("1 2 3 4 5 6"), not a phone number
    # National forms ("13904761234") are normalised first so they are masked as hard as E.164 ones.
    return mask(try_normalise(raw) or raw)


def mask_numbers(text: str | None) -> str:
    """`text` with every phone-number-like run of digits masked (`+86****1234`)."""
    return _NUMBERISH.sub(_mask_run, text or "")


def spoken_text(body: str) -> str:
    """The words of a call (its outbox body), each distinct sentence once; "" if there are none to read."""
    sentences: list[str] = []
    for sentence in call_sentences(body):
        if sentence and sentence not in sentences:  # notifications say everything twice
            sentences.append(sentence)
    return " ".join(sentences)


def call_sentences(body: str) -> list[str]:
    """The sentences a call's body says, in order: its script's, or the <Say>s of an earlier release's TwiML."""
    script = script_of(body)
    if not script.verbatim:
        return list(script.sentences)
    try:
        root = ET.fromstring(script.verbatim)
    except ET.ParseError:
        return []
    return ["".join(say.itertext()).strip() for say in root.iter("Say")]
