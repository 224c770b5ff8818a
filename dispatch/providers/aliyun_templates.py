"""Alibaba Cloud SMS templates as data: which approved template (TemplateCode) sends each kind of SMS.

Mainland SMS go out only through templates approved in advance, with named parameters (`${code}`). The file
(ALIYUN_TEMPLATES, by default aliyun_templates.json beside this module) maps each SMS kind the hotline sends
(a key of dispatch/texts/zh-CN.json) to its TemplateCode, its parameter names and the text submitted for
approval; `flask aliyun-templates` prints that list. The texts equal the catalogue's (a test checks it):
an edited text is a new template to submit, not a silent change. Its "voice" section does the same for calls
(Alibaba's voice service, dyvms): a TTS template (TtsCode) per spoken text, and per answer target the TTS said
after each key (`load_voice`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DEFAULT_PATH = Path(__file__).with_name("aliyun_templates.json")
PARAM = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Template:
    """One SMS kind's template: its TemplateCode ("" until approved), parameter names, text and purpose."""

    kind: str
    code: str
    params: tuple[str, ...]
    text: str
    purpose: str = ""

    def param_json(self, values: dict) -> str:
        """The TemplateParam of a send: the template's parameters from `values`, as JSON (KeyError if missing)."""
        return json.dumps({name: str(values[name]) for name in self.params}, ensure_ascii=False)

    def fill(self, values: dict) -> str:
        """The text the recipient reads (without the signature), the parameters filled in."""
        return PARAM.sub(lambda m: str(values[m.group(1)]), self.text)


@lru_cache(maxsize=8)
def load_templates(path: str = "") -> dict[str, Template]:
    """The templates of the file at `path` ("" for the shipped file), by kind; read once per process."""
    data = json.loads(Path(path or DEFAULT_PATH).read_text(encoding="utf-8"))
    return {kind: Template(kind, str(raw.get("code") or ""), tuple(raw.get("params") or PARAM.findall(raw["text"])),
                           raw["text"], raw.get("purpose", ""))
            for kind, raw in data["templates"].items()}


@dataclass(frozen=True)
class Menu:
    """What a call with keys says after each: `keys` key -> TTS kind, `bye` when no key came, `start` the opening
    of an app dialogue (a script that hands the call to one, e.g. the satisfaction call)."""

    keys: dict[str, str] = field(default_factory=dict)
    bye: str = ""
    start: str = ""


@dataclass(frozen=True)
class VoiceTemplates:
    """The voice section: TTS templates by kind (Template.code is the TtsCode) and menus by answer target name."""

    tts: dict[str, Template]
    menus: dict[str, Menu]


@lru_cache(maxsize=8)
def load_voice(path: str = "") -> VoiceTemplates:
    """The voice section of the file at `path` ("" for the shipped file); read once per process."""
    data = json.loads(Path(path or DEFAULT_PATH).read_text(encoding="utf-8")).get("voice") or {}
    tts = {kind: Template(kind, str(raw.get("code") or ""), tuple(raw.get("params") or PARAM.findall(raw["text"])),
                          raw["text"], raw.get("purpose", ""))
           for kind, raw in (data.get("templates") or {}).items()}
    menus = {name: Menu(dict(raw.get("keys") or {}), str(raw.get("bye") or ""), str(raw.get("start") or ""))
             for name, raw in (data.get("menus") or {}).items()}
    return VoiceTemplates(tts, menus)


def submission_list(templates: dict[str, Template]) -> list[str]:
    """One line per template to submit for approval: kind, code (or "-" while unapproved), purpose, text."""
    return [f"{t.kind}\t{t.code or '-'}\t{t.purpose}\t{t.text}" for t in templates.values()]
