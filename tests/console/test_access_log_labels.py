"""Every access-log action has a label on the access-log page in both languages, and code writes no other action."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.console.i18n import LANGUAGES, catalogue
from models import ACCESS_ACTIONS, AccessLog, log_access
from tests.casework import make_case

ROOT = Path(__file__).resolve().parents[2]
# Functions that write an access-log row, and where their action is: (keyword, position).
WRITERS: dict[str, tuple[str, int | str | None]] = {
    "log_access": ("action", 4), "models_log_access": ("action", 4), "AccessLog": ("action", None),
    "_record": ("action", "first"), "_export": ("action", 1), "_figures": ("action", 1), "_log_cases": ("action", 1)}
LOCAL_WRAPPER = 1  # hotline/console/casework.py's log_access(cases, action, reason)


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _constants(tree: ast.Module) -> dict[str, str]:
    return {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for t in node.targets if isinstance(t, ast.Name)}


def actions_in_code() -> set[str]:
    """The action of every access-log write in hotline/ and dispatch/ whose action is a literal or a constant."""
    found = set()
    for path in [*ROOT.glob("hotline/**/*.py"), *ROOT.glob("dispatch/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):  # a writer's default action: def _log_cases(ids, action="...")
                params = node.args.args[len(node.args.args) - len(node.args.defaults):]
                found |= {d.value for p, d in zip(params, node.args.defaults, strict=True)
                          if p.arg == "action" and isinstance(d, ast.Constant)}
            if not isinstance(node, ast.Call) or _name(node.func) not in WRITERS:
                continue
            keyword, position = WRITERS[_name(node.func)]
            if _name(node.func) == "log_access" and len(node.args) < 5:
                position = LOCAL_WRAPPER
            args = [k.value for k in node.keywords if k.arg == keyword]
            if position == "first":  # the CLI's _record(session, action, ...) and the console's _record(action, ...)
                args = [a for a in node.args if isinstance(a, (ast.Constant, ast.IfExp))][:1]
            elif not args and position is not None and len(node.args) > position:
                args = [node.args[position]]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
                elif isinstance(arg, ast.Name) and arg.id in names:
                    found.add(names[arg.id])
                elif isinstance(arg, ast.IfExp):
                    found |= {a.value for a in (arg.body, arg.orelse) if isinstance(a, ast.Constant)}
    return found


def test_the_scan_finds_the_actions_written_across_the_code():
    found = actions_in_code()
    assert {"read", "write:intake", "write:police", "write:task", "export-report", "anonymise", "user:create",
            "user:set-password", "softphone"} <= found


def test_every_action_written_in_code_is_a_known_action():
    assert actions_in_code() - set(ACCESS_ACTIONS) == set()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_known_action_has_a_label_on_the_access_log_page(lang):
    texts = catalogue(lang)
    assert [a for a in ACCESS_ACTIONS if not texts.get(f"audit.action_{a}")] == []


def test_an_unknown_action_is_refused_and_nothing_is_written(db):
    case = make_case(db)
    with pytest.raises(ValueError, match="unknown access-log action"):
        log_access(db, "zhang", [case.id], "/console/cases/123456", "write:something")
    db.rollback()
    assert db.scalars(select(AccessLog)).all() == []
