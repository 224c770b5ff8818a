"""Every SMS and outbound-call sentence, zh-CN first and English second: dispatch/texts/<language>.json.

Each catalogue is read from its file on first use, once per process (as ivr_flows/prompts and the console's
texts are): importing this module reads nothing. Lengths matter in these files, which JSON cannot annotate:
an offer, an assignment and a child-line alert aim at one UCS-2 SMS segment (70 characters, the encoding any
Chinese character forces), so their templates are terse; a child-line alert never carries the recording, which
stays in the case. The `*_call` texts are spoken (text-to-speech), never sent as SMS.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

TEXT_DIR = Path(__file__).parent / "texts"
FALLBACK_LANGUAGE = "zh-CN"
LANGUAGES = ("zh-CN", "en")


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, Any]:
    """Every text of `language` (a template string, or a mapping of names such as "category")."""
    if language not in LANGUAGES:
        raise KeyError(language)
    return json.loads((TEXT_DIR / f"{language}.json").read_text(encoding="utf-8"))


class _Catalogue(Mapping[str, Any]):
    """One language's texts, read from its file when first looked into."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __getitem__(self, key: str) -> Any:
        return catalogue(self.language)[key]

    def __iter__(self) -> Iterator[str]:
        return iter(catalogue(self.language))

    def __len__(self) -> int:
        return len(catalogue(self.language))


class _Catalogues(Mapping[str, _Catalogue]):
    """The catalogues by language code ("zh-CN", "en")."""

    def __getitem__(self, language: str) -> _Catalogue:
        if language not in LANGUAGES:
            raise KeyError(language)
        return _CATALOGUE[language]

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


_CATALOGUE = {language: _Catalogue(language) for language in LANGUAGES}
ZH, EN = _CATALOGUE["zh-CN"], _CATALOGUE["en"]
CATALOGUES: Mapping[str, Mapping[str, Any]] = _Catalogues()


class Rendered(str):
    """A message text that remembers which text it is (`kind`, its key here) and its parameters.

    The outbox stores both beside the body (queue_message), so a provider that sends approved templates with
    named parameters instead of free text (Alibaba Cloud) sends exactly what the text says. A Rendered is an
    ordinary str everywhere else; a text built any other way is sent as text only.
    """

    kind: str
    params: dict[str, str]

    def __new__(cls, text: str, kind: str, params: dict[str, str]) -> Rendered:
        """The text `text` of kind `kind`, rendered from `params`."""
        rendered = super().__new__(cls, text)
        rendered.kind, rendered.params = kind, params
        return rendered


def render(language: str, key: str, **params) -> str:
    """One message text in `language` (zh-CN when unknown), as a Rendered that knows its kind and parameters."""
    return Rendered(CATALOGUES.get(language, ZH)[key].format(**params), key,
                    {name: str(value) for name, value in params.items()})


def category_name(language: str, category: str) -> str:
    """A category's display name."""
    return CATALOGUES.get(language, ZH)["category"].get(category, category)
