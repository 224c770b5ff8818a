"""Where the key pressed on an automated call goes: each answer target of a call script, by name, to its function.

A provider that reports the keys after the call (Alibaba's VoiceReport dtmf) hands them here; the Twilio webhooks
(hotline/webhooks/cases.py, arrival.py, satisfaction.py) call the same dispatch functions while the call is live,
so a key means the same on either provider. `digits` is the first key pressed, "" for silence; a key the target
does not know, or arguments naming nothing of ours, change nothing. Each function is idempotent (the first answer
wins in its own conditional UPDATE) and leaves the commit to its caller.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from models import Officer, Order, Visit, case_by_code

from .arrival_calls import CONFIRM, DISPUTE, record_answer
from .case_alerts import acknowledge
from .deferred import Work
from .providers import Target
from .satisfaction import RATINGS, record_rating
from .settings import DispatchSettings
from .voice_messages import ACK_KEY

log = logging.getLogger(__name__)
Answer = Callable[[Session, dict, str, DispatchSettings, datetime], Work]


def _id(args: dict, name: str) -> int | None:
    try:
        return int(args.get(name))  # type: ignore[arg-type]  # a missing or bad id is None below
    except (TypeError, ValueError):
        return None


def _case_ack(session: Session, args: dict, digits: str, settings: DispatchSettings, now: datetime) -> Work:
    """A supervisor's alert call: 1 acknowledges the case for that officer, as the Twilio voice ack does."""
    officer_id = _id(args, "officer")
    case = case_by_code(session, str(args.get("case") or ""))
    officer = session.get(Officer, officer_id) if officer_id is not None else None
    if digits != ACK_KEY or case is None or officer is None:
        return []
    acknowledge(session, case, officer, "voice", now)
    return []


def _arrival(session: Session, args: dict, digits: str, settings: DispatchSettings, now: datetime) -> Work:
    """The arrival call: 1 verifies the visit, 2 disputes it (officers alerted); silence waits for the next try."""
    visit_id = _id(args, "visit")
    visit = session.get(Visit, visit_id) if visit_id is not None else None
    if digits not in (CONFIRM, DISPUTE) or visit is None or visit.verify_attempts == 0:
        return []
    return record_answer(session, visit, digits, settings, now)


def _satisfaction(session: Session, args: dict, digits: str, settings: DispatchSettings, now: datetime) -> Work:
    """The satisfaction call: 1, 2 or 3 is the order's rating (the first one only)."""
    order_id = _id(args, "order")
    order = session.get(Order, order_id) if order_id is not None else None
    if digits not in {str(r) for r in RATINGS} or order is None or order.satisfaction_call_at is None:
        return []
    record_rating(session, order, int(digits), now)
    return []


ANSWERS: dict[str, Answer] = {"case-ack": _case_ack, "arrival": _arrival, "satisfaction": _satisfaction}


def answer(session: Session, target: Target, digits: str, settings: DispatchSettings, now: datetime) -> Work:
    """Hand the key pressed on a call (`digits`, "" for none) to its target's function; the work it leaves."""
    handler = ANSWERS.get(target.name)
    if handler is None:
        log.warning("a key for unknown call target %r ignored", target.name)
        return []
    return handler(session, target.args, digits, settings, now)
