"""One order's timeline for the console: events, offers, SMS and calls sent, replies, the call and the rating."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from dispatch.providers import script_of
from hotline.console.event_text import actor_name, event_detail
from hotline.console.i18n import translate
from models import CallLog, Message, Order
from models.phone import mask, mask_text

_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Entry:
    """One line of the timeline; `source` orders entries of the same instant (the event first)."""

    at: datetime
    source: int
    kind: str            # event | offer | sms | call | reply | inbound-call | rating
    title: str
    detail: str = ""
    actor: str = ""
    status: str = ""     # a badge (offer or message status) when there is one


def timeline(session: Session, order: Order) -> list[Entry]:
    """Everything that happened to `order`, oldest first."""
    entries = _events(order) + _offers(order) + _messages(session, order) + _replies(session, order)
    entries += _calls(session, order) + _rating(order)
    return sorted(entries, key=lambda e: (e.at, e.source))


def label(key: str, fallback: str) -> str:
    """A console text, or `fallback` when there is none for this key (an event kind added later)."""
    text = translate(key)
    return fallback if text == key else text


def _events(order: Order) -> list[Entry]:
    found = []
    for event in order.events:
        if event.kind == "offer" and order.offers:
            continue  # each offer is shown from its attempt row, with its outcome
        if event.kind.startswith("status:"):
            status = event.kind.split(":", 1)[1]
            title = translate("board.event.status", status=label(f"board.status.{status}", status))
        else:
            title = label(f"board.event.{event.kind}", label(f"visits.event.{event.kind}", event.kind))
        detail = label(f"board.rating.{event.detail}", event.detail) if event.kind == "rating" else event.detail
        found.append(Entry(event.at, 0, "event", title, event_detail(event.kind, detail), actor_name(event.actor)))
    return found


def _offers(order: Order) -> list[Entry]:
    found = []
    for attempt in order.offers:
        distance = "?" if attempt.distance_km is None else f"{attempt.distance_km:.1f} km"
        detail = translate("board.timeline.offer_detail", distance=distance, round=attempt.round)
        found.append(Entry(attempt.sent_at, 1, "offer", translate("board.timeline.offer", tech=attempt.technician.name),
                           detail, status=attempt.status))
    return found


def spoken(body: str) -> str:
    """The sentence a notification call says (it says it twice; once is enough to read)."""
    script = script_of(body)
    if not script.verbatim:
        return script.sentences[0] if script.sentences else ""
    # TwiML queued by an earlier release: the text between its tags.
    sentences = [html.unescape(s).strip() for s in _TAG.split(script.verbatim)]
    sentences = [s for s in sentences if s]
    return sentences[0] if sentences else ""


def _messages(session: Session, order: Order) -> list[Entry]:
    found = []
    # The answers to technicians' SMS (status "twiml") are shown with their reply, not as an SMS sent.
    rows = session.scalars(select(Message).where(Message.order_id == order.id, Message.direction == "outbound",
                                                 Message.status != "twiml").order_by(Message.id))
    for msg in rows:
        if msg.channel == "call":
            title, detail = translate("board.timeline.call", to=mask(msg.to_phone)), spoken(msg.body)
        else:
            title, detail = translate("board.timeline.sms", to=mask(msg.to_phone)), msg.body
        found.append(Entry(msg.created_at, 2, msg.channel, title, mask_text(detail), status=msg.status))
    return found


def _replies(session: Session, order: Order) -> list[Entry]:
    """Technicians' SMS about this order: those filed under it, and (stored before replies were filed) one from
    a technician of the order while it was open that, or our answer to it, names its code."""
    techs = {a.technician.phone: a.technician.name for a in order.offers}
    if order.technician is not None:
        techs[order.technician.phone] = order.technician.name
    until = order.completed_at or order.cancelled_at
    unfiled = and_(Message.order_id.is_(None), Message.from_phone.in_(list(techs)),
                   Message.created_at >= order.created_at)
    if until is not None:
        unfiled = and_(unfiled, Message.created_at <= until)
    query = select(Message).where(Message.direction == "inbound", Message.channel == "sms",
                                  or_(Message.order_id == order.id, unfiled))
    inbound = list(session.scalars(query.order_by(Message.id)))
    keys = [f"reply:{m.provider_sid}" for m in inbound if m.provider_sid]
    answers = {m.key: m.body for m in session.scalars(select(Message).where(Message.key.in_(keys)))} if keys else {}
    found = []
    for msg in inbound:
        answer = answers.get(f"reply:{msg.provider_sid}", "")
        if msg.order_id != order.id and order.code not in msg.body and order.code not in answer:
            continue
        who = techs.get(msg.from_phone, mask(msg.from_phone))
        detail = msg.body if not answer else translate("board.timeline.reply_answer", body=msg.body, answer=answer)
        if msg.sent_by:
            detail = f"{detail} · {translate('softphone.sent_by', user=msg.sent_by)}"
        found.append(Entry(msg.created_at, 3, "reply", translate("board.timeline.reply", tech=who),
                           mask_text(detail), actor=who))
    return found


def _calls(session: Session, order: Order) -> list[Entry]:
    found = []
    for call in session.scalars(select(CallLog).where(CallLog.order_id == order.id)):
        detail = translate("board.timeline.call_path", path=call.path or "-")
        found.append(Entry(call.started_at, 4, "inbound-call", translate("board.timeline.incoming",
                                                                          caller=mask(call.from_phone)), detail))
    return found


def _rating(order: Order) -> list[Entry]:
    # The satisfaction call records its rating as an event; this covers a rating stored without one.
    if order.rating is None or any(e.kind == "rating" for e in order.events):
        return []
    at = order.rated_at or order.completed_at or order.created_at
    return [Entry(at, 5, "rating", translate("board.timeline.rating"),
                  label(f"board.rating.{order.rating}", str(order.rating)))]
