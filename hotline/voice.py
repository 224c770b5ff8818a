"""Voice webhooks of the elderly line: the greeting, the menu walk, the order commit and call status."""
from __future__ import annotations

import logging
import secrets
from typing import NamedTuple

from flask import Blueprint, request
from sqlalchemy import insert, select

from dispatch.jobs import enqueue_offer
from dispatch.offers import FollowUp
from ivr_flows import engine, twiml as tw
from ivr_flows.prompts import spoken_digits, text
from models import Order, OrderEvent, Resident, utcnow
from models.phone import mask, try_normalise

from . import db
from .calls import call_with_keys, current_call_log, language, open_call, public_url, small_int, twiml
from .cases import commit_and_schedule
from .operator import caller_gone, child_line_answer, operator_response
from .webhooks import twilio_webhook

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/twilio/voice")
FLOW = "elderly"
FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
ORDERS, ORDER_EVENTS = Order.__table__, OrderEvent.__table__


def random_code() -> str:
    """A random 6-digit order code; the unique index on open orders' codes decides whether it is free."""
    return f"{secrets.randbelow(1_000_000):06d}"


def _menu_url(state: engine.State) -> str:
    return public_url("voice.menu", **state.as_params())


@bp.post("")
@twilio_webhook
def incoming():
    """Twilio's "A call comes in": log the call, then greet and ask (one commit with the webhook's receipt)."""
    session = db.session()
    row, resident = open_call(session, commit=False, first=True)
    if row.line == "child":
        session.commit()  # the child line commits and retries its case on its own: the call log goes first
        return child_line_answer(row)
    flow = engine.load_flow(FLOW)
    if resident is None and row.resident_id:  # a retried greeting: the row was there already
        resident = session.get(Resident, row.resident_id)
    turn = engine.start(flow, language(), resident.name if resident else None)
    # Not memoised: a known caller's greeting carries their name, which must not stay in a process cache.
    return twiml(str(tw.render_turn(turn, language(), _menu_url(turn.ask), flow.gather_timeout)))


@bp.post("/menu")
@twilio_webhook
def menu():
    """One key (or silence) at one menu; the menu state travels in the signed URL."""
    flow = engine.load_flow(FLOW)
    state = engine.State.from_params(request.args, flow)
    turn = engine.step(flow, language(), state, request.form.get("Digits"))
    session = db.session()
    row = call_with_keys(turn.key_record)  # committed with the webhook's receipt
    if turn.ask is not None:
        return twiml(tw.turn_xml(turn, language(), _menu_url(turn.ask), flow.gather_timeout))
    if turn.action == "operator":
        row.outcome = "to-person"
        session.commit()
        return twiml(operator_response(row, 0, before=list(turn.say) + [text(language(), "to_person")]))
    return _commit_order(row, turn.category)


class OrderRef(NamedTuple):
    """What the call needs of the order it has just inserted."""

    id: int
    code: str
    category: str
    unregistered: bool

    @property
    def is_emergency(self) -> bool:
        """As Order.is_emergency."""
        return self.category == "emergency"


def _commit_order(row, category: str):
    """Commit the caller's order (once per call), read its code back, then hang up or connect to a person."""
    session = db.session()
    order = _order_of_call(session, row, category)
    order_id = order.id
    # Commit first, then enqueue: the offer job is queued once the webhook's commit holds the order.
    db.after_commit(lambda: enqueue_offer(db.queue(), order_id))
    lang = language()
    sentences = [text(lang, "order_code", digits=spoken_digits(order.code))]
    if order.is_emergency:
        # Seconds matter: one sentence about 120, then a person; the code is on the order and in SMS.
        sentences = [text(lang, "emergency_advice"), text(lang, "to_person")]
        return twiml(operator_response(row, 0, before=sentences))
    if order.unregistered:
        sentences += [text(lang, "unregistered"), text(lang, "to_person")]
        return twiml(operator_response(row, 0, before=sentences))
    sentences += [text(lang, "promise"), text(lang, "goodbye")]
    return twiml(tw.speak(lang, sentences, hangup=True))


def _order_of_call(session, row, category: str) -> Order | OrderRef:
    """The call's order, created now (the webhook commits it) or found again when Twilio retried the webhook."""
    for _ in range(20):  # a code clash with another open order is possible but rare: draw again
        code, now = random_code(), utcnow()
        # Core statements with ON CONFLICT DO NOTHING, not the unit of work in a savepoint: a taken CallSid
        # (a retried webhook's order) or a taken open code inserts nothing and raises nothing, so the
        # transaction, which also holds the receipt and the keys, goes on. Defaults as for Order().
        order_id = session.scalar(db.insert_or_ignore(ORDERS).values(
            code=code, status="pending", category=category, resident_id=row.resident_id,
            caller_phone=try_normalise(row.from_phone), unregistered=row.resident_id is None,
            call_sid=row.call_sid, created_at=now).returning(ORDERS.c.id))
        if order_id is None:
            existing = session.scalar(select(Order).where(Order.call_sid == row.call_sid))
            if existing is not None:
                return existing
            continue  # the code belongs to another open order
        # What set_status(order, "pending") records, as one INSERT.
        session.execute(insert(ORDER_EVENTS).values(order_id=order_id, at=now, kind="status:pending",
                                                    detail=f"IVR path {row.path}", actor="caller"))
        row.order_id, row.outcome = order_id, "order"
        log.info("order %s (%s) created for %s", code, category, mask(row.from_phone))
        return OrderRef(order_id, code, category, row.resident_id is None)
    raise RuntimeError("could not allocate an order code")


@bp.post("/status")
@twilio_webhook
def status():
    """Call status callbacks: may come twice or out of order; a final status is never overwritten."""
    row = current_call_log()
    new = request.form.get("CallStatus", "")[:20]
    # ended_at, not status, marks a final callback already taken: a row first created by this very
    # callback (the voice webhook was missed) already carries the final status but no end yet.
    if row.ended_at is not None:
        return twiml(tw.empty())
    row.status = new or row.status
    follow = FollowUp()
    if new in FINAL_STATUSES:
        row.ended_at = utcnow()
        duration = request.form.get("CallDuration", "")
        row.duration_s = small_int(duration)
        if row.answered_by_id:
            row.outcome = "answered"
        elif row.line == "child" or row.outcome == "to-person":
            # Wanted a person and hung up before one answered: someone must call back.
            follow = caller_gone(row)
        elif row.outcome in ("in-progress", "ringing"):
            row.outcome = "hung-up"
    commit_and_schedule(follow)
    return twiml(tw.empty())
