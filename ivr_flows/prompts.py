"""Prompt texts by language, kept as data in ivr_flows/prompts/*.json and read once per process."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

PROMPT_DIR = Path(__file__).parent / "prompts"
FALLBACK_LANGUAGE = "zh-CN"


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, str]:
    """All prompts of one language (zh-CN when the language has no file)."""
    path = PROMPT_DIR / f"{language}.json"
    if not path.exists():
        path = PROMPT_DIR / f"{FALLBACK_LANGUAGE}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def text(language: str, key: str, **params) -> str:
    """One prompt with its `{placeholders}` filled."""
    return catalogue(language)[key].format(**params)


def spoken_digits(code: str) -> str:
    """A code spaced out so text-to-speech reads it digit by digit."""
    return " ".join(code)
