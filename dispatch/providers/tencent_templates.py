"""Tencent Cloud SMS templates as data: which approved template (TemplateId) sends each kind of SMS, and in which
order its parameters go.

Tencent's template variables are positional (`{1}`, `{2}`, ...) and SendSms takes them as a list
(TemplateParamSet). The file (TENCENT_TEMPLATES, by default tencent_templates.json beside this module) maps each SMS
kind the hotline sends (a key of dispatch/texts/zh-CN.json) to its TemplateId, the names that fill positions 1..n
(a name used twice in a text fills two positions) and the text submitted for approval; `flask sms-templates
--provider tencent` prints that list. Put back the names and the text is the catalogue's (a test checks it): an
edited text is a new template to submit, not a silent change.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_PATH = Path(__file__).with_name("tencent_templates.json")
POSITION = re.compile(r"\{(\d+)\}")


@dataclass(frozen=True)
class PositionalTemplate:
    """One SMS kind's template: its TemplateId ("" until approved), what fills each position, text and purpose."""

    kind: str
    id: str
    params: tuple[str, ...]
    text: str
    purpose: str = ""

    def param_set(self, values: dict) -> list[str]:
        """The TemplateParamSet of a send: position 1, 2, ... from `values` (KeyError if one is missing)."""
        return [str(values[name]) for name in self.params]

    def fill(self, values: dict) -> str:
        """The text the recipient reads (without the signature), the positions filled in."""
        filled = self.param_set(values)
        return POSITION.sub(lambda m: filled[int(m.group(1)) - 1], self.text)

    def named_text(self) -> str:
        """The text with each position named as in the catalogue (`{code}`)."""
        return POSITION.sub(lambda m: "{" + self.params[int(m.group(1)) - 1] + "}", self.text)


def _template(kind: str, raw: dict) -> PositionalTemplate:
    params, text = tuple(raw.get("params") or ()), raw["text"]
    positions = [int(p) for p in POSITION.findall(text)]
    if positions != list(range(1, len(params) + 1)):
        raise ValueError(f"Tencent template {kind!r}: positions {positions} do not number its {len(params)} "
                         "params 1, 2, ... in order")
    return PositionalTemplate(kind, str(raw.get("id") or ""), params, text, raw.get("purpose", ""))


@lru_cache(maxsize=8)
def load_templates(path: str = "") -> dict[str, PositionalTemplate]:
    """The templates of the file at `path` ("" for the shipped file), by kind; read once per process."""
    data = json.loads(Path(path or DEFAULT_PATH).read_text(encoding="utf-8"))
    return {kind: _template(kind, raw) for kind, raw in data["templates"].items()}
