"""Benchmark 5: seconds of speech and key presses from answer to order code, from the flow and its prompts."""
from __future__ import annotations

import re

from ivr_flows.engine import load_flow
from ivr_flows.prompts import catalogue, spoken_digits, text

from .stats import table, verdict

RATE = 4.0          # Mandarin characters per second at <prosody rate="slow"> (stated estimate)
TARGET_S, TARGET_PRESSES = 40.0, 2
LANG = "zh-CN"
CALLER = "张桂兰"   # the demo resident greeted by name
CODE = "123456"
_SPOKEN = re.compile(r"[\u4e00-\u9fff0-9A-Za-z*]")


def spoken(sentence: str) -> int:
    """Syllables the voice says: CJK characters, digits (one by one) and letters; punctuation is a pause."""
    return len(_SPOKEN.findall(sentence))


def _until(prompt: str, key: str) -> str:
    """The prompt up to the end of the clause that names `key` (a caller may press then: barge-in)."""
    marker = "按" + key
    cut = prompt.find(marker)
    return prompt if cut < 0 else prompt[:cut + len(marker)]


def paths() -> list[dict]:
    """The shortest key path of every menu option that makes an order, with what is said on the way."""
    flow = load_flow("elderly")
    menu = text(LANG, flow.nodes["menu"]["prompt"])
    greeting = text(LANG, "greet_known", name=CALLER)
    code = text(LANG, "order_code", digits=spoken_digits(CODE))
    result = []
    for key, option in flow.nodes["menu"]["options"].items():
        category = option.get("confirm") or option.get("emergency")
        if not category:
            continue
        cat_name = text(LANG, f"category_{category}")
        if option.get("confirm"):
            confirm = text(LANG, "confirm", category=cat_name)
            full = [greeting, menu, confirm, code]
            barge = [greeting, _until(menu, key), _until(confirm, "1"), code]
            presses, end = [key, "1"], "order code read (twice)"
        else:  # emergency: committed at the key, then 120 advice and a person; the code goes by SMS
            full = [greeting, menu, text(LANG, "emergency_advice")]
            barge = [greeting, _until(menu, key), text(LANG, "emergency_advice")]
            presses, end = [key], "order committed, 120 advice (then a person)"
        result.append({"key": key, "category": cat_name, "presses": presses, "end": end,
                       "full_s": sum(map(spoken, full)) / RATE, "barge_s": sum(map(spoken, barge)) / RATE,
                       "after_s": sum(spoken(text(LANG, k)) for k in ("promise", "goodbye")) / RATE
                       if option.get("confirm") else 0.0})
    return result


def run() -> dict:
    """Speech seconds and presses per category; the target holds when the caller listens to every prompt."""
    rows, targets = [], []
    for p in paths():
        ok = p["full_s"] <= TARGET_S and len(p["presses"]) <= TARGET_PRESSES
        rows.append([p["key"], p["category"], " ".join(p["presses"]), len(p["presses"]), f"{p['full_s']:.1f}",
                     f"{p['barge_s']:.1f}", f"{p['after_s']:.1f}", p["end"], verdict(ok)])
        targets.append(ok)
    voice = catalogue(LANG)["_voice"]
    lines = [f"Rate: {RATE:g} spoken characters/s ({voice}, `<prosody rate=\"slow\">`), digits read one by one, "
             f"punctuation not counted (pauses are extra); known caller {CALLER}, code {CODE}. 'Full' = the caller "
             "hears every prompt to its end (the greeting is outside the Gather and cannot be interrupted); "
             "'barge-in' = the key pressed as soon as its clause is heard (the menu and confirmation are inside "
             "the Gather, so Twilio takes the key at once). Time to press a key is not added.", ""]
    lines += table(["key", "category", "presses", "count", "speech s (full)", "speech s (barge-in)",
                    "then promise + goodbye s", "ends at", "≤ 40 s, ≤ 2 presses"], rows)
    worst = max(p["full_s"] for p in paths())
    presses = max(len(p["presses"]) for p in paths())
    return {"title": "5. Call time", "lines": lines,
            "targets": [(f"≤ {TARGET_S:g} s of speech and ≤ {TARGET_PRESSES} presses to the order code, every category",
                         f"worst {worst:.1f} s, {presses} presses", verdict(all(targets)))]}
