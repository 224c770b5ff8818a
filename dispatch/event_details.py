"""What the system itself says in an event's detail, as patterns: written through detail(), read back by parse().

A detail is stored in one neutral form (the pattern, its values filled in), as it always was, so the rows written
before this table and the ones written after read back alike; the console shows the text of the pattern's name in
the reader's language (hotline/console/event_text.py). Free text (a note, a reason typed by staff, a name) is no
pattern and shows as it was written. Patterns are tried for their event kinds only, so a note cannot match one.
"""
from __future__ import annotations

import re
from functools import lru_cache

# name: (event kinds it is written for, pattern). A {value} is any text; the console may label known values.
PATTERNS: dict[str, tuple[tuple[str, ...], str]] = {
    # child-line cases
    "incoming": (("call",), "incoming call"),
    "incoming_key": (("call",), "incoming call: child-line key on the elderly line's number"),
    "ring": (("ring",), "tier {tier}: {names}"),
    "no_answer": (("no-answer",), "tier {tier}: DialCallStatus={dial}"),
    "message": (("voicemail",), "message recorded"),
    "hung_up": (("missed",), "caller hung up before an officer answered"),
    "outage": (("missed",), "database unavailable during the call: the fallback answered it"),
    "alert_round": (("alert",), "round {round}: SMS to {sms} officer(s), {calls} call(s)"),
    "ack": (("acknowledged",), "{who} by {via}"),
    "task_overdue": (("task:overdue",), "#{task} round {round}: SMS to {count}"),
    # elderly-line orders
    "officers_alerted": (("alert",), "{count} officer(s) alerted"),
    "by_phone": (("status:pending",), "IVR path {path}"),
    "by_console": (("status:pending",), "console"),
    "unregistered": (("status:escalated",), "unregistered caller"),
    "no_candidates": (("status:escalated",), "no candidates"),
    "offers_unanswered": (("status:escalated",), "{count} offers unanswered"),
    "not_arrived": (("sla_breached",), "not arrived {minutes} min after accepting"),
    "satisfaction_queued": (("satisfaction_call",), "queued"),
    "rated_3": (("needs_follow_up",), "rated 3 on the satisfaction call"),
    "notify": (("notify_resident",), "{channel}"),
}


def detail(name: str, **values: object) -> str:
    """The stored detail of pattern `name` with its values filled in."""
    return PATTERNS[name][1].format(**values)


@lru_cache(maxsize=None)
def _regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", pattern)
    # Odd parts are value names; the last value takes the rest, earlier ones the least that lets the rest match.
    body = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts))
    return re.compile(body + r"\Z", re.DOTALL)


def parse(kind: str, text: str) -> tuple[str, dict[str, str]] | None:
    """(pattern name, values) of an event's detail written through detail(), else None (free text)."""
    for name, (kinds, pattern) in PATTERNS.items():
        if kind in kinds:
            match = _regex(pattern).match(text)
            if match:
                return name, match.groupdict()
    return None
