"""dispatch.settings.DispatchSettings lists exactly what dispatch reads of the settings, and Settings has it all."""
from __future__ import annotations

import ast
from pathlib import Path

from dispatch.settings import DispatchSettings
from hotline.config import Settings

DISPATCH = Path(__file__).resolve().parents[2] / "dispatch"


def _members() -> set[str]:
    return {name for name, value in vars(DispatchSettings).items() if isinstance(value, property)}


def _read_by_dispatch() -> set[str]:
    """Every `settings.X` and `rt.settings.X` attribute read in dispatch's source."""
    found: set[str] = set()
    for path in DISPATCH.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id == "settings") or (
                    isinstance(owner, ast.Attribute) and owner.attr == "settings"):
                found.add(node.attr)
    return found


def test_the_protocol_lists_every_setting_dispatch_reads():
    assert _read_by_dispatch() <= _members()


def test_the_protocol_lists_nothing_dispatch_does_not_read():
    assert _members() <= _read_by_dispatch()


def test_hotline_settings_provide_every_member():
    settings = Settings(database_url="sqlite://", redis_url="redis://127.0.0.1:6379/0")
    assert all(hasattr(settings, name) for name in _members())
