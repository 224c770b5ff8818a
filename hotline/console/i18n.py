"""Console text, zh-CN first and English second: texts/<lang>/<page>.json, merged per language.

Each page keeps its own file so the console's wording is in one folder per language; keys are
"page.name". A key missing in English falls back to Chinese, a key missing in both shows as itself.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import request, session
from markupsafe import Markup, escape

LANGUAGES = ("zh-CN", "en")
TEXTS = Path(__file__).resolve().parent / "texts"


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """Every console text of one language (read once per process)."""
    merged: dict[str, str] = {}
    for path in sorted((TEXTS / lang).glob("*.json")):
        page = path.stem
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            merged[f"{page}.{key}"] = value
    return merged


def current_language() -> str:
    """The language of this request: `?lang=` (remembered in the session), else the session's, else zh-CN."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
    lang = session.get("lang")
    return lang if lang in LANGUAGES else LANGUAGES[0]


def translate(key: str, **values) -> str:
    """The text for `key` in the request's language, with `{name}` placeholders filled."""
    text = catalogue(current_language()).get(key) or catalogue(LANGUAGES[0]).get(key) or key
    return text.format(**values) if values else text


def translate_literal(key: str, **literals: str) -> Markup:
    """The text for `key` with each `{name}` filled by a literal to type as shown (a setting, a command, a time
    zone) in <code>: the text and the literals are escaped, only the <code> tags are markup."""
    text = catalogue(current_language()).get(key) or catalogue(LANGUAGES[0]).get(key) or key
    return escape(text).format(**{name: Markup("<code>{}</code>").format(value) for name, value in literals.items()})
