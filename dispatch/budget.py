"""The per-recipient SMS budget (SMS_BUDGET): at most N SMS to one number per window, and what an SMS over it does.

Carriers block senders that text one number too often; GoAlert caps SMS at 1 a minute, 5 per 15 minutes and 12
an hour per number, the default here. The budget is counted from the outbox itself (rows to that number that
actually went out, plus rows being sent right now), so it holds whichever provider sends (twilio, aliyun, local).
Every decision about an SMS over budget is made by `decide()`:

- exempt: calls (their own budget: dispatch/call_budget.py), and answers to a person's own SMS (`reply:`,
  `late-reply:`): the person is waiting for that answer, and holding it would leave them guessing whether the
  hotline heard them;
- an offer to a technician over budget is not sent (`skip`): the order goes to the next technician at once;
- a child-line alert (case alert, police-report alert, overdue task) is held while the number is over budget,
  and every alert held for it goes out as ONE merged SMS listing the case codes when the budget allows
  (dispatch/held_sms.py); an alert for a number that has alerts held already joins them;
- any other SMS over budget (an assignment, a resident's notice) is held and sent as it is, later.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from models import Message

DEFAULT = "1/60,5/900,12/3600"
OFF_WORDS = ("off", "none", "0")
EXEMPT_PREFIXES = ("reply:", "late-reply:")
MERGEABLE_PREFIXES = ("case-alert:", "police-alert:", "task-overdue:")
OFFER_PREFIX = "offer:"
HELD = "held"
# What a skipped offer's row says (the outbox and the order's timeline read it).
SKIPPED_ERROR = "budget: over the per-number SMS budget, not sent"
# A row being sent this long ago is a dead worker's (outbox.CLAIM_SECONDS): not counted as going out.
IN_FLIGHT_SECONDS = 30


@dataclass(frozen=True)
class Window:
    """At most `count` SMS to one number in any `seconds`."""

    count: int
    seconds: int


@lru_cache(maxsize=16)
def parse_budget(raw: str, name: str = "SMS_BUDGET", example: str = DEFAULT) -> tuple[Window, ...]:
    """A budget setting ("1/60,5/900,12/3600": N per S seconds, any number of windows), () for "off"; ValueError
    naming the setting `name` (SMS_BUDGET, CALL_BUDGET) else."""
    text = (raw or "").strip().lower()
    if text in OFF_WORDS:
        return ()
    windows = []
    noun = "calls" if name.startswith("CALL") else "SMS"
    for part in text.split(","):
        count, slash, seconds = (p.strip() for p in part.partition("/"))
        if not slash or not (count.isdigit() and seconds.isdigit()) or int(count) < 1 or int(seconds) < 1:
            raise ValueError(f"{name} must look like {example} (at most N {noun} per S seconds to one "
                             f"number) or be off, not {raw!r}")
        windows.append(Window(int(count), int(seconds)))
    return tuple(sorted(windows, key=lambda w: (w.seconds, w.count)))


def budget_text(raw: str, name: str = "SMS_BUDGET", example: str = DEFAULT) -> str:
    """A budget setting as the settings keep it: its windows in order ("1/60,5/900"), or "off"; ValueError else."""
    windows = parse_budget(raw, name, example)
    return ",".join(f"{w.count}/{w.seconds}" for w in windows) if windows else "off"


def allowed_at(times: list[datetime], windows: tuple[Window, ...], now: datetime) -> datetime | None:
    """When one more SMS may go to a number that got SMS at `times`: None if now, else the moment it may."""
    latest = None
    for window in windows:
        recent = sorted(t for t in times if t > now - timedelta(seconds=window.seconds))
        if len(recent) >= window.count:
            # The window frees a place when enough of its oldest SMS have left it.
            at = recent[len(recent) - window.count] + timedelta(seconds=window.seconds)
            latest = at if latest is None or at > latest else latest
    return latest


def sent_times(session: Session, phone: str, now: datetime, horizon: int, exclude_id: int | None = None,
               channel: str = "sms") -> list[datetime]:
    """When SMS (or calls) went to `phone` in the last `horizon` seconds: rows sent, and rows being sent now
    (counted now)."""
    since = now - timedelta(seconds=horizon)
    query = select(Message.sent_at, Message.status).where(
        Message.to_phone == phone, Message.direction == "outbound", Message.channel == channel,
        or_(Message.sent_at > since,
            and_(Message.status == "sending", Message.claimed_at > now - timedelta(seconds=IN_FLIGHT_SECONDS))))
    if exclude_id is not None:
        query = query.where(Message.id != exclude_id)
    return [sent_at if sent_at is not None and status != "sending" else now
            for sent_at, status in session.execute(query)]


def next_allowed(session: Session, phone: str, now: datetime, windows: tuple[Window, ...],
                 exclude_id: int | None = None, more: int = 0, channel: str = "sms") -> datetime | None:
    """When the budget lets one more SMS (or call) go to `phone` (None: now); `more` counts ones about to go now."""
    if not windows:
        return None
    times = sent_times(session, phone, now, max(w.seconds for w in windows), exclude_id, channel) + [now] * more
    return allowed_at(times, windows, now)


def mergeable(message: Message) -> bool:
    """A child-line alert about one case: held over budget and merged with the others held for its number."""
    return message.case_id is not None and (message.key or "").startswith(MERGEABLE_PREFIXES)


def exempt(message: Message) -> bool:
    """Never held nor skipped: calls, and answers to a person's own SMS."""
    return message.channel != "sms" or (message.key or "").startswith(EXEMPT_PREFIXES)


def alerts_held(session: Session, phone: str) -> bool:
    """Whether child-line alerts wait in the budget for `phone` (a new one joins them)."""
    return session.scalar(select(Message.id).where(
        Message.to_phone == phone, Message.status == HELD, Message.case_id.is_not(None),
        or_(*(Message.key.startswith(p) for p in MERGEABLE_PREFIXES))).limit(1)) is not None


class Verdict(StrEnum):
    """What becomes of one SMS: sent now, held for later, or (an offer) not sent at all."""

    SEND = "send"
    HOLD = "hold"
    SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    """A verdict, and for a held SMS when the budget allows the number one again."""

    verdict: Verdict
    until: datetime | None = None


SEND = Decision(Verdict.SEND)


def decide(session: Session, message: Message, windows: tuple[Window, ...], now: datetime) -> Decision:
    """The one place that says whether an SMS goes out now, waits, or (an offer) goes to nobody: see the module."""
    if not windows or exempt(message):
        return SEND
    if mergeable(message) and alerts_held(session, message.to_phone):
        return Decision(Verdict.HOLD, next_allowed(session, message.to_phone, now, windows, message.id) or now)
    until = next_allowed(session, message.to_phone, now, windows, message.id)
    if until is None:
        return SEND
    if (message.key or "").startswith(OFFER_PREFIX):
        return Decision(Verdict.SKIP)
    return Decision(Verdict.HOLD, until)
