"""An event's detail and actor in the reader's language: the system's own patterns by text key, the rest as written."""
from __future__ import annotations

from collections.abc import Callable

from dispatch.event_details import parse
from hotline.console.i18n import translate
from models.phone import mask_text


def _label(key: str, fallback: str) -> str:
    text = translate(key)
    return fallback if text == key else text


def event_detail(kind: str, detail: str, mask: Callable[[str], str] = mask_text) -> str:
    """The detail of an event of `kind` to show (numbers masked by `mask`): a known pattern in the reader's
    language, with known values (a channel, a dial status) labelled; free text, or a pattern without a text, as
    stored."""
    found = parse(kind, detail or "")
    if found is None:
        return mask(detail or "")
    name, values = found
    shown = {field: _label(f"events.{field}.{value}", value) for field, value in values.items()}
    text = translate(f"events.detail.{name}", **shown)
    return mask(detail) if text == f"events.detail.{name}" else mask(text)


def actor_name(actor: str) -> str:
    """Who did it: a person's name as stored; the system, the caller or the resident in the reader's language."""
    return _label(f"events.actor.{actor}", actor)
