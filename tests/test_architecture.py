"""The layout's import arrows (HOUSE_STYLE.md), read from the source with `ast`: nothing is imported to check.

Allowed: hotline -> ivr_flows, dispatch, models; ivr_flows -> models; dispatch -> models;
worker.py -> dispatch, models, hotline.config; app.py -> hotline. Never models -> anything of the project,
never ivr_flows or dispatch or models -> flask, never a cycle between packages or between hotline's rooms.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hotline", "ivr_flows", "dispatch", "models")
ALLOWED = {
    "hotline": {"ivr_flows", "dispatch", "models"},
    "ivr_flows": {"models"},
    "dispatch": {"models"},
    "models": set(),
}
# Modules that import twilio.rest: only the Twilio adapter on the sending side.
TWILIO_REST = {"dispatch.providers.twilio"}
# Modules that import twilio at all: the adapters on each side, the IVR's TwiML, the softphone's virtual Twilio.
TWILIO_ADAPTERS = {"dispatch.providers.twilio", "dispatch.providers.twilio_transport",
                   "hotline.webhooks.twilio_inbound", "ivr_flows.twiml", "hotline.softphone.twilio_wire"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; relative imports resolved), at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    # Imports under `if TYPE_CHECKING:` are for annotations only: no arrow at run time, no cycle.
    type_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and
                 getattr(block.test, "id", getattr(block.test, "attr", "")) == "TYPE_CHECKING"
                 for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import x` / `from pkg import module`: the names may be modules themselves.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _sources() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    files += [ROOT / "worker.py", ROOT / "app.py"]
    return {_module_name(p): _imports(p) for p in files}


def _project(target: str, modules: dict[str, set[str]]) -> str | None:
    """The project module `target` names (the longest known prefix), or None for a third-party one."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _top(module: str) -> str:
    return module.split(".")[0]


@pytest.fixture(scope="module")
def modules() -> dict[str, set[str]]:
    """Every project module and what it imports."""
    return _sources()


def test_packages_import_only_along_the_allowed_arrows(modules):
    wrong = sorted(f"{source} -> {target}" for source, targets in modules.items() if _top(source) in ALLOWED
                   for target in {_project(t, modules) for t in targets} - {None}
                   if _top(target) != _top(source) and _top(target) not in ALLOWED[_top(source)])
    assert wrong == []


def test_worker_imports_only_dispatch_models_and_the_settings(modules):
    targets = {_project(t, modules) for t in modules["worker"]} - {None}
    assert {t for t in targets if _top(t) == "hotline"} <= {"hotline.config", "hotline"}
    assert "hotline.factory" not in targets
    assert {_top(t) for t in targets} <= {"dispatch", "models", "hotline"}


def test_no_layer_below_the_web_imports_flask(modules):
    wrong = sorted(source for source, targets in modules.items()
                   if _top(source) in ("models", "dispatch", "ivr_flows") and any(_top(t) == "flask" for t in targets))
    assert wrong == []


def test_models_import_nothing_of_the_project_but_models(modules):
    wrong = sorted(f"{s} -> {t}" for s, ts in modules.items() if _top(s) == "models"
                   for t in {_project(x, modules) for x in ts} - {None} if _top(t) != "models")
    assert wrong == []


def test_only_the_twilio_adapter_imports_twilio_rest(modules):
    assert {s for s, ts in modules.items() if any(t == "twilio.rest" or t.startswith("twilio.rest.") for t in ts)} \
        <= TWILIO_REST


def test_twilio_is_imported_only_by_its_adapters(modules):
    assert {s for s, ts in modules.items() if any(t == "twilio" or t.startswith("twilio.") for t in ts)} \
        <= TWILIO_ADAPTERS


def _rooms(module: str) -> str:
    """A module's room: its package's first two levels (hotline.console, hotline.webhooks, dispatch, ...).

    hotline's own modules are its shared wiring (hotline: config, db, params, security, headers, staff), which
    every room may use, except the factory (hotline.factory), which assembles the rooms, and the launcher of
    `make run` (hotline.cli.launcher), which starts it: nothing below uses either."""
    if module in ("hotline.factory", "hotline.cli.launcher"):  # above the rooms: they assemble or start the app
        return module
    if (ROOT / module.replace(".", "/")).is_dir():  # a package is its own room
        return ".".join(module.split(".")[:2])
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else parts[0]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle in `graph`, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_cycle_between_packages_or_rooms(modules):
    graph: dict[str, set[str]] = {}
    for source, targets in modules.items():
        for target in {_project(t, modules) for t in targets} - {None}:
            a, b = _rooms(source), _rooms(target)
            if a != b:
                graph.setdefault(a, set()).add(b)
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None
