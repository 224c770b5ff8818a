"""Voice webhooks of the elderly line: the greeting, the menu walk, the order commit and call status."""
from __future__ import annotations

import logging

from flask import Blueprint, request

from dispatch.clock_in import may_clock_in
from dispatch.deferred import Work
from dispatch.jobs import enqueue_offer
from hotline import db
from hotline.webhooks import call_store, clock_in
from hotline.webhooks.calls import (
    caller_number,
    current_call_log,
    dialled_number,
    language,
    line_for,
    public_url,
    settings,
    small_int,
    twiml,
)
from hotline.webhooks.cases import commit_and_schedule
from hotline.webhooks.operator import caller_gone, child_key_answer, child_line_answer, operator_response
from hotline.webhooks.receipts import once, twilio_webhook
from hotline.webhooks.twilio_inbound import key_press, twilio_signed
from ivr_flows import engine, twiml as tw
from ivr_flows.prompts import spoken_digits, text
from models import CALL_ENDED, utcnow
from models.phone import mask, try_normalise

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/twilio/voice")
FLOW = engine.ELDERLY_FLOW


def _menu_url(state: engine.State, path: str) -> str:
    # The keys so far travel with the menu state in the signed URL: each webhook writes the path whole.
    return public_url("voice.menu", **state.as_params(), path=path)


def _flow() -> engine.Flow:
    """The elderly phone tree, with the child-line key when both lines share its number."""
    return engine.load_flow(FLOW, settings().child_line_key)


def _call_sid() -> str:
    return request.form.get("CallSid", "")[:64] or "unknown"


@bp.post("")
@twilio_signed
def incoming():
    """Twilio's "A call comes in": the child line rings its officers; the elderly line logs and greets (offering
    the child line first when HOTLINE_CHILD_LINE_KEY puts both lines on its number).

    The elderly greeting is one statement (the call's row, with the caller looked up in it): no receipt, since
    that INSERT is idempotent per CallSid and a retry reads the same caller back."""
    if line_for(request.form.get("To")) == "child":
        return _child_line()
    sid, caller, to = _call_sid(), caller_number(), dialled_number(request.form.get("To"))
    status = request.form.get("CallStatus", "ringing")[:20]
    name = db.hot(lambda conn: call_store.open_call(conn, sid, caller, to, status, utcnow()))
    flow = _flow()
    turn = engine.start(flow, language(), name)
    # A known caller's greeting carries their name, which must not stay in a process cache: only the menu part
    # of the document is memoised (turn_document).
    return twiml(tw.turn_document(turn, language(), _menu_url(turn.ask, ""), flow.gather_timeout))


@once
def _child_line():
    """The child line: its call row and case commit first (with the webhook's receipt), then the rota rings."""
    return child_line_answer(current_call_log())


@bp.post("/menu")
@twilio_signed
def menu():
    """One key (or silence) at one menu; the menu state and the keys so far travel in the signed URL.

    A key that leads to another menu or to a registered caller's order is one idempotent statement (see
    call_store); a way to a person goes through the webhook receipt, as the rota's rings must not repeat."""
    flow = _flow()
    state = engine.State.from_params(request.args, flow)
    digits = key_press().digits
    # The unannounced clock-in key does something only from a home where a technician is working right now.
    clocking = engine.is_clock_in(flow, state, digits) and may_clock_in(db.session(), caller_number())
    turn = engine.step(flow, language(), state, digits, clock_in=clocking)
    path = _path_after(turn.key_record)
    if turn.ask is not None:
        _record_path(path)
        return twiml(tw.turn_xml(turn, language(), _menu_url(turn.ask, path), flow.gather_timeout))
    if turn.action == "clock_in":
        _record_path(path)
        return twiml(clock_in.ask_code(language()))
    if turn.action == "child_line":
        return _to_child_line(path)
    if turn.action not in ("commit", "emergency"):
        _record_path(path)
        return _to_person(turn, None)
    order = _commit_order(turn.category, path)
    if order.is_emergency or order.unregistered:
        return _to_person(turn, order)
    lang = language()
    code = text(lang, "order_code", digits=spoken_digits(order.code))
    return twiml(tw.speak_document(lang, [code], (text(lang, "promise"), text(lang, "goodbye")), hangup=True))


@once
def _to_child_line(path: str):
    """The child-line key: the call's line, case and rings, with the webhook's receipt (the rings must not repeat)."""
    return child_key_answer(current_call_log(), path)


def _path_after(keys: str) -> str:
    """The call's keys after this webhook's. (A menu URL from before the keys travelled in it starts them afresh:
    appending in the database instead would not be idempotent.)"""
    return call_store.clean_path(request.args.get("path", "") + keys)


def _record_path(path: str) -> None:
    sid = _call_sid()
    if not db.hot(lambda conn: call_store.set_path(conn, sid, path)):
        current_call_log().path = path  # the greeting never reached us: the call's row is made now
        db.session().commit()


def _commit_order(category: str, path: str) -> call_store.OrderRef:
    """Commit the caller's order (once per call) and queue its offer; a retried webhook finds the same order."""
    sid, caller = _call_sid(), try_normalise(request.form.get("From"))

    def commit(conn):
        return call_store.commit_order(conn, sid, category, path, caller, utcnow())

    order = db.hot(commit)
    if order is None:  # the greeting never reached us: make the call's row (committed), then the order
        current_call_log()
        order = db.hot(commit)
    if order.new:
        log.info("order %s (%s) created for %s", order.code, category, mask(caller or ""))
        enqueue_offer(db.queue(), order.id)  # after the commit that holds the order
    return order


@once
def _to_person(turn: engine.Turn, order: call_store.OrderRef | None):
    """Ring the rota: a caller who asked for a person or went quiet, an emergency, an unregistered caller."""
    row = current_call_log()
    lang = language()
    if order is None:
        row.outcome = "to-person"
        db.session().commit()
        return twiml(operator_response(row, 0, before=list(turn.say) + [text(lang, "to_person")]))
    if order.is_emergency:
        # Seconds matter: one sentence about 120, then a person; the code is on the order and in SMS.
        sentences = [text(lang, "emergency_advice"), text(lang, "to_person")]
    else:
        sentences = [text(lang, "order_code", digits=spoken_digits(order.code)), text(lang, "unregistered"),
                     text(lang, "to_person")]
    return twiml(operator_response(row, 0, before=sentences))


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
    follow: Work = []
    if new in CALL_ENDED:
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
