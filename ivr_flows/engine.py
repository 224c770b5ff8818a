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
    action: str = ""                  # "commit" | "emergency" | "operator"
    category: str = ""
    key_record: str = field(default="")  # what to append to the call's key path


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


@lru_cache(maxsize=None)
def load_flow(name: str) -> Flow:
    """Read a flow definition once per process."""
    data = json.loads((FLOW_DIR / f"{name}.json").read_text(encoding="utf-8"))
    categories = tuple(sorted({opt.get("confirm") or opt.get("emergency")
                               for node in data["nodes"].values() for opt in node["options"].values()
                               if opt.get("confirm") or opt.get("emergency")}))
    return Flow(name=name, start=data["start"], nodes=data["nodes"],
                gather_timeout=int(data.get("gather_timeout_seconds", 10)),
                max_silences=int(data.get("max_silences", 2)), max_invalid=int(data.get("max_invalid", 3)),
                categories=categories)


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


def start(flow: Flow, lang: str, caller_name: str | None) -> Turn:
    """The first turn of a call: greeting (by name for a known caller) and the top menu."""
    greeting = text(lang, "greet_known", name=caller_name) if caller_name else text(lang, "greet_unknown")
    state = State(node=flow.start)
    return Turn(say=(greeting,), ask=state, prompt=_prompt(flow, lang, state))


def step(flow: Flow, lang: str, state: State, digits: str | None) -> Turn:
    """The turn after the caller pressed `digits` (None or "" = silence) at `state`."""
    key = (digits or "").strip()[:1]
    if not key:
        silences = state.silences + 1
        if silences >= flow.max_silences:
            return Turn(action="operator", key_record="_")
        again = replace(state, silences=silences)
        return Turn(say=(text(lang, "greet_short"),), ask=again, prompt=_prompt(flow, lang, again), key_record="_")
    option = flow.nodes[state.node]["options"].get(key)
    if option is None:
        invalid = state.invalid + 1
        if invalid >= flow.max_invalid:
            return Turn(say=(text(lang, "invalid"),), action="operator", key_record="?")
        again = replace(state, invalid=invalid)
        return Turn(say=(text(lang, "invalid"),), ask=again, prompt=_prompt(flow, lang, again), key_record="?")
    if option.get("repeat"):
        return Turn(ask=state, prompt=_prompt(flow, lang, state), key_record=key)
    if option.get("operator"):
        return Turn(action="operator", key_record=key)
    if option.get("emergency"):
        return Turn(action="emergency", category=option["emergency"], key_record=key)
    if option.get("commit"):
        if not state.category:  # a confirm step that lost its category: start over rather than guess
            top = State(node=flow.start)
            return Turn(ask=top, prompt=_prompt(flow, lang, top), key_record=key)
        return Turn(action="commit", category=state.category, key_record=key)
    if option.get("confirm"):
        nxt = State(node="confirm", category=option["confirm"])
        return Turn(ask=nxt, prompt=_prompt(flow, lang, nxt), key_record=key)
    nxt = State(node=option["goto"])
    return Turn(ask=nxt, prompt=_prompt(flow, lang, nxt), key_record=key)
