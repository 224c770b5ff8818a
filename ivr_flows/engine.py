"""The engine that walks a phone tree: given where the caller is and what they pressed, what happens next.

It is pure: no Flask, no database. The web layer turns a `Turn` into TwiML and carries out its action.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .prompts import text

FLOW_DIR = Path(__file__).parent
ELDERLY_FLOW = "elderly"
# A key a flow may hand to the child line (HOTLINE_CHILD_LINE_KEY): one digit, and one no node of it uses.
CHILD_KEYS = frozenset("0123456789")


@dataclass(frozen=True)
class State:
    """Where a caller is in the tree; travels in the signed callback URL, so no server memory is needed."""

    node: str
    category: str = ""
    silences: int = 0
    invalid: int = 0

    def as_params(self) -> dict[str, str]:
        """The state as URL query parameters."""
        return {"node": self.node, "category": self.category,
                "silences": str(self.silences), "invalid": str(self.invalid)}

    @classmethod
    def from_params(cls, params, flow: Flow) -> State:
        """Read a state back from query parameters; anything unknown restarts at the top menu."""
        node = params.get("node", "")
        if node not in flow.nodes:
            return cls(node=flow.start)
        category = params.get("category", "")
        category = category if category in flow.categories else ""
        if not category and _needs_category(flow.nodes[node]):
            # A confirmation without a known category would read back "您选择了。": start over instead.
            return cls(node=flow.start)
        return cls(node=node, category=category,
                   silences=_small_int(params.get("silences")), invalid=_small_int(params.get("invalid")))


@dataclass(frozen=True)
class Turn:
    """What to do next: say some sentences, then either ask (gather a key) or carry out an action."""

    say: tuple[str, ...] = ()
    ask: State | None = None          # gather one key at this state, prompting with `prompt`
    prompt: str = ""
    action: str = ""                  # "commit" | "emergency" | "operator" | "child_line" | "clock_in"
    category: str = ""
    key_record: str = field(default="")  # what to append to the call's key path
    # Said inside the Gather before the prompt, so a key pressed while they play is taken (the child-line key
    # offered first, and the greeting after it, on a number that serves both lines).
    lead: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flow:
    """A phone tree loaded from JSON."""

    name: str
    start: str
    nodes: dict
    gather_timeout: int
    max_silences: int
    max_invalid: int
    categories: tuple[str, ...]
    child_key: str = ""  # the key that hands the call to the child line at every node ("" = none)


@lru_cache(maxsize=None)
def _definition(name: str) -> dict:
    return json.loads((FLOW_DIR / f"{name}.json").read_text(encoding="utf-8"))


def keys_in_use(name: str) -> frozenset[str]:
    """Every key some node of the flow `name` already gives a meaning."""
    return frozenset(key for node in _definition(name)["nodes"].values() for key in node["options"])


def child_key_problem(name: str, key: str) -> str | None:
    """Why `key` cannot be the child-line key of the flow `name`, or None when it can."""
    if key not in CHILD_KEYS:
        return f"must be one digit 0-9 (or empty for off), not {key!r}"
    if key in keys_in_use(name):
        free = ", ".join(sorted(CHILD_KEYS - keys_in_use(name)))
        return f"{key} is already a key of the {name} menu; free keys: {free}"
    return None


@lru_cache(maxsize=None)
def load_flow(name: str, child_key: str = "") -> Flow:
    """Read a flow definition once per process; with `child_key`, that key leads to the child line at every node."""
    data = _definition(name)
    nodes = data["nodes"]
    if child_key:
        problem = child_key_problem(name, child_key)
        if problem:
            raise ValueError(f"child-line key: {problem}")
        nodes = {node_name: {**node, "options": {**node["options"], child_key: {"child_line": True}}}
                 for node_name, node in nodes.items()}
    categories = tuple(sorted({opt.get("confirm") or opt.get("emergency")
                               for node in nodes.values() for opt in node["options"].values()
                               if opt.get("confirm") or opt.get("emergency")}))
    return Flow(name=name, start=data["start"], nodes=nodes,
                gather_timeout=int(data.get("gather_timeout_seconds", 10)),
                max_silences=int(data.get("max_silences", 2)), max_invalid=int(data.get("max_invalid", 3)),
                categories=categories, child_key=child_key)


def _needs_category(node: dict) -> bool:
    return any(opt.get("commit") for opt in node["options"].values())


def _small_int(raw) -> int:
    try:
        return max(0, min(int(raw), 99))
    except (TypeError, ValueError):
        return 0


def _prompt(flow: Flow, lang: str, state: State) -> str:
    node = flow.nodes[state.node]
    category = text(lang, f"category_{state.category}") if state.category else ""
    return text(lang, node["prompt"], category=category)


def _ask(flow: Flow, lang: str, state: State, say: tuple[str, ...] = (), key_record: str = "") -> Turn:
    """Ask for a key at `state`; the top menu of a number serving both lines offers the child line first."""
    lead = (text(lang, "child_key_offer", digit=flow.child_key),) if flow.child_key and state.node == flow.start else ()
    return Turn(say=say, ask=state, prompt=_prompt(flow, lang, state), key_record=key_record, lead=lead)


def start(flow: Flow, lang: str, caller_name: str | None) -> Turn:
    """The first turn of a call: greeting (by name for a known caller) and the top menu.

    With a child-line key the offer of the child line is said first, before the greeting, and both play inside
    the menu's Gather: a child need not sit through the elderly greeting to press the key."""
    greeting = text(lang, "greet_known", name=caller_name) if caller_name else text(lang, "greet_unknown")
    turn = _ask(flow, lang, State(node=flow.start))
    if flow.child_key:
        return replace(turn, lead=turn.lead + (greeting,))
    return replace(turn, say=(greeting,))


def is_clock_in(flow: Flow, state: State, digits: str | None) -> bool:
    """Whether `digits` at `state` is the technicians' unannounced clock-in key."""
    option = flow.nodes[state.node]["options"].get((digits or "").strip()[:1])
    return bool(option and option.get("clock_in"))


def step(flow: Flow, lang: str, state: State, digits: str | None, clock_in: bool = False) -> Turn:
    """The turn after the caller pressed `digits` (None or "" = silence) at `state`; the clock-in key counts
    only with `clock_in` (the caller may clock in), else it is an invalid key like any unused one."""
    key = (digits or "").strip()[:1]
    if not key:
        silences = state.silences + 1
        if silences >= flow.max_silences:
            return Turn(action="operator", key_record="_")
        return _ask(flow, lang, replace(state, silences=silences), say=(text(lang, "greet_short"),), key_record="_")
    option = flow.nodes[state.node]["options"].get(key)
    if option is not None and option.get("clock_in") and not clock_in:
        option = None
    if option is None:
        invalid = state.invalid + 1
        if invalid >= flow.max_invalid:
            return Turn(say=(text(lang, "invalid"),), action="operator", key_record="?")
        return _ask(flow, lang, replace(state, invalid=invalid), say=(text(lang, "invalid"),), key_record="?")
    if option.get("repeat"):
        return _ask(flow, lang, state, key_record=key)
    if option.get("child_line"):
        return Turn(action="child_line", key_record=key)
    if option.get("clock_in"):
        return Turn(action="clock_in", key_record=key)
    if option.get("operator"):
        return Turn(action="operator", key_record=key)
    if option.get("emergency"):
        return Turn(action="emergency", category=option["emergency"], key_record=key)
    if option.get("commit"):
        if not state.category:  # a confirm step that lost its category: start over rather than guess
            return _ask(flow, lang, State(node=flow.start), key_record=key)
        return Turn(action="commit", category=state.category, key_record=key)
    if option.get("confirm"):
        return _ask(flow, lang, State(node="confirm", category=option["confirm"]), key_record=key)
    return _ask(flow, lang, State(node=option["goto"]), key_record=key)
