"""Small builders for orders and dispatch checks used by the dispatch and SMS tests."""
from __future__ import annotations

from rq.job import Job
from sqlalchemy import func, select

from dispatch.jobs import enqueue_offer
from models import Message, OfferAttempt, Order, OrderEvent, new_code, set_status, utcnow
from models.lifecycle import NEW, ORDER_TRANSITIONS
from tests.conftest import ELDERLY_NUMBER
from tests.twilio_client import parse_twiml

HOUSEKEEPING = ("2", "1")  # menu 2, then 1 to confirm
EMERGENCY = ("5",)


def call_in(tw, phone: str, keys=HOUSEKEEPING):
    """Walk a signed call from `phone` through the elderly menu; returns the last TwiML response."""
    call = tw.new_call(from_=phone, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    for key in keys:
        resp = call.follow(resp, Digits=key)
    return resp


def moves_to(status: str) -> list[str]:
    """The shortest walk of allowed moves from a new order (no status) to `status`, read from ORDER_TRANSITIONS."""
    paths: dict[str | None, list[str]] = {NEW: []}
    frontier: list[str | None] = [NEW]
    while frontier and status not in paths:
        here = frontier.pop(0)
        for to, transition in ORDER_TRANSITIONS.items():
            if to not in paths and transition.allows(here):
                paths[to] = [*paths[here], to]
                frontier.append(to)
    return paths[status]


def walk_to(db, order: Order, status: str, actor: str = "system") -> None:
    """Bring a new order to `status` through set_status along moves_to (each stamps and records as it would)."""
    for step in moves_to(status):
        set_status(db, order, step, actor=actor)


def make_order(app, db, resident, category: str = "housekeeping") -> Order:
    """Commit an order for `resident` directly and queue its first offer, as the call would."""
    order = Order(code=new_code(db), category=category, resident_id=resident.id, created_at=utcnow())
    db.add(order)
    set_status(db, order, "pending")
    db.commit()
    enqueue_offer(app.extensions["hotline"].queue, order.id)
    return order


def only_order(db) -> Order:
    """The one order in the database, freshly read."""
    db.expire_all()
    return db.scalars(select(Order)).one()


def order_by_code(db, code: str) -> Order:
    """An order by code, freshly read."""
    db.expire_all()
    return db.scalars(select(Order).where(Order.code == code)).one()


def sent_to(fake_twilio) -> list[str]:
    """The numbers the fake Twilio accepted SMS for, in order."""
    return [m["to"] for m in fake_twilio.messages]


def texts_to(fake_twilio, number: str) -> list[str]:
    """Bodies of the SMS the fake Twilio accepted for `number`."""
    return [m["body"] for m in fake_twilio.messages if m["to"] == number]


def answer(resp) -> str:
    """The text of the TwiML <Message> answers in a webhook response ('' when none)."""
    root = parse_twiml(resp)
    return "".join("".join(m.itertext()) for m in root.iter("Message"))


def snapshot(db) -> dict:
    """What a reply could change: orders, offers, events and outbound messages waiting to go."""
    db.expire_all()
    return {
        "orders": [(o.id, o.status, o.technician_id, o.accepted_at, o.arrived_at, o.completed_at)
                   for o in db.scalars(select(Order).order_by(Order.id))],
        "offers": [(a.id, a.status) for a in db.scalars(select(OfferAttempt).order_by(OfferAttempt.id))],
        "events": db.scalar(select(func.count(OrderEvent.id))),
        "outbox": db.scalar(select(func.count(Message.id)).where(Message.direction == "outbound",
                                                                  Message.status != "twiml")),
    }


def scheduled_jobs(app) -> list[Job]:
    """Jobs waiting in RQ's ScheduledJobRegistry of the hotline queue."""
    queue = app.extensions["hotline"].queue
    ids = queue.scheduled_job_registry.get_job_ids()
    return [j for j in Job.fetch_many(ids, connection=queue.connection) if j is not None]
