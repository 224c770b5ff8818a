"""dispatch/texts/<language>.json: the SMS and outbound-call texts, the same keys and placeholders in each language."""
from __future__ import annotations

import string
import subprocess
import sys
from pathlib import Path

import pytest

from dispatch import texts

ROOT = Path(__file__).resolve().parents[2]


def _shape(value) -> dict | frozenset:
    """A text's keys (a mapping) or its placeholders (a template), compared across languages."""
    if isinstance(value, dict):
        return {key: _shape(inner) for key, inner in value.items()}
    return frozenset(name for _, name, _, _ in string.Formatter().parse(value) if name is not None)


def test_every_language_has_a_file():
    assert sorted(p.stem for p in texts.TEXT_DIR.glob("*.json")) == sorted(texts.LANGUAGES)


def test_english_has_the_same_keys_and_placeholders_as_chinese():
    assert _shape(texts.catalogue("en")) == _shape(texts.catalogue("zh-CN"))


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_every_template_has_text(language):
    flat = [v for v in texts.catalogue(language).values() if isinstance(v, str)]
    assert flat and all(v.strip() for v in flat)


def test_importing_the_module_reads_no_file():
    code = "import dispatch.texts as t; print(t.catalogue.cache_info().currsize)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_render_falls_back_to_chinese_for_an_unknown_language():
    assert texts.render("fr", "taken", code="123456") == texts.render("zh-CN", "taken", code="123456")


def test_category_name_reads_the_catalogue():
    assert texts.category_name("en", "emergency") == "emergency"
    assert texts.category_name("zh-CN", "emergency") == "紧急救援"
    assert texts.category_name("en", "unheard-of") == "unheard-of"


def test_catalogues_is_a_mapping_by_language():
    assert list(texts.CATALOGUES) == list(texts.LANGUAGES)
    assert texts.CATALOGUES.get("fr") is None
    assert texts.CATALOGUES["en"]["offer"] == texts.EN["offer"]
