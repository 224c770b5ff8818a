"""What a bare import costs: the worker's modules load without Flask or the console (issue 12, item 6)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _loaded_after(statement: str) -> set[str]:
    """The module names in sys.modules after running `statement` in a fresh interpreter at the project root."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize("statement", ["import hotline.config", "import worker"])
def test_worker_imports_load_no_flask(statement):
    loaded = _loaded_after(statement)
    assert not {m for m in loaded if m == "flask" or m.startswith("flask.")}


def test_hotline_config_loads_no_console():
    loaded = _loaded_after("import hotline.config")
    assert not {m for m in loaded if m.startswith("hotline.console") or m == "hotline.factory"}


def test_the_factory_still_builds_from_its_module():
    loaded = _loaded_after("from hotline.factory import create_app")
    assert "flask" in loaded
