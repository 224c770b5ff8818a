"""The per-recipient call budget (CALL_BUDGET): at most N calls to one number per window, for every provider.

Alibaba's voice service (dyvms) refuses more than 1 call a minute, 5 an hour and 20 a day to one number, the
default here; GoAlert caps voice the same way after a carrier blocked it. Like the SMS budget
(dispatch/budget.py) it is counted from the outbox: calls to that number that went out, plus calls being
placed right now. Every decision about a call over it is made here (`decide_call`); held calls are placed
later by dispatch/held_calls.py, which first asks whether each is still wanted.

- A call over the budget is held (status `held`), never dropped, and so is a call to a number that has calls
  held already (it waits behind them): they are placed oldest first as the budget frees places.
- A call the provider refused for its own per-number limit (ProviderError.recipient_limited) is held too,
  with `error` saying so: the refusal counts as a call at the time of that attempt (`claimed_at`), so the
  next try waits for the budget's next place instead of a fast retry loop. With the budget off the refusal
  is paced by the default windows.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Message

from .budget import HELD, SEND, Decision, Verdict, Window, allowed_at, budget_text, parse_budget, sent_times
from .settings import DispatchSettings

DEFAULT = "1/60,5/3600,20/86400"
NAME = "CALL_BUDGET"
CHANNEL = "call"
# The error of a held call the provider refused for the number's limit (the rest is the provider's words).
LIMITED = "provider limit: "


def call_budget_text(raw: str) -> str:
    """CALL_BUDGET as the settings keep it ("1/60,5/3600,20/86400" in order, or "off"); ValueError naming it."""
    return budget_text(raw, NAME, DEFAULT)


def call_windows(settings: DispatchSettings) -> tuple[Window, ...]:
    """The call budget's windows, () when it is off."""
    return parse_budget(settings.call_budget, NAME, DEFAULT)


def refused_times(session: Session, phone: str, exclude_id: int | None = None) -> list[datetime]:
    """When the provider last refused each call held for `phone` for its per-number limit."""
    query = select(Message.claimed_at).where(
        Message.to_phone == phone, Message.channel == CHANNEL, Message.status == HELD,
        Message.error.startswith(LIMITED), Message.claimed_at.is_not(None))
    if exclude_id is not None:
        query = query.where(Message.id != exclude_id)
    return [at for at in session.scalars(query) if at is not None]


def next_call_at(session: Session, phone: str, now: datetime, windows: tuple[Window, ...],
                 exclude_id: int | None = None, more: int = 0) -> datetime | None:
    """When one more call may go to `phone` (None: now): calls placed, being placed, refused, and `more` now."""
    refused = refused_times(session, phone, exclude_id)
    pacing = windows or (parse_budget(DEFAULT, NAME, DEFAULT) if refused else ())
    if not pacing:
        return None
    horizon = max(w.seconds for w in pacing)
    placed = sent_times(session, phone, now, horizon, exclude_id, CHANNEL) if windows else []
    return allowed_at(placed + refused + [now] * more, pacing, now)


def calls_held_before(session: Session, message: Message) -> bool:
    """Whether calls queued before `message` wait in the budget for its number (it then waits behind them)."""
    return session.scalar(select(Message.id).where(
        Message.to_phone == message.to_phone, Message.channel == CHANNEL, Message.status == HELD,
        Message.id < message.id).limit(1)) is not None


def decide_call(session: Session, message: Message, windows: tuple[Window, ...], now: datetime) -> Decision:
    """The one place that says whether a call is placed now or held (never skipped): see the module."""
    if not windows:
        return SEND
    until = next_call_at(session, message.to_phone, now, windows, message.id)
    if calls_held_before(session, message):
        return Decision(Verdict.HOLD, until or now)
    return SEND if until is None else Decision(Verdict.HOLD, until)
