"""An inbound SMS, whoever sent it: a technician's reply, an officer's acknowledgement, a case worker's task
reply, or anything else.

Used by the SMS webhook and by the replay of messages that arrived while the database was down.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Message, officer_by_phone, technician_by_phone, worker_by_phone
from models.phone import mask, try_normalise

from . import deferred
from .assignments import handle_reply
from .case_alerts import acknowledge_by_sms
from .outbox import queue_message
from .providers import InboundSms
from .replies import parse, parse_ack
from .settings import DispatchSettings
from .task_replies import handle_task_sms
from .texts import render

log = logging.getLogger(__name__)
DUPLICATE = object()


def receive_sms(session: Session, sms: InboundSms, settings: DispatchSettings, now: datetime,
                answer_by_outbox: bool = False):
    """Log the SMS, act on it and return (answer text or None, follow-up work); commits all of it at once.

    Returns (DUPLICATE, None) when this MessageSid is being handled by another request right now, and the
    stored answer when it was handled before: one MessageSid, one effect. With `answer_by_outbox` (a provider
    whose webhooks cannot answer with an SMS: Alibaba's push) the answer is an outbox row, sent by the follow-up.
    """
    sid, to, body = sms.sid, sms.to, sms.text
    sender = try_normalise(sms.from_) or (sms.from_ or "")[:32]
    if sid:
        earlier = session.scalar(select(Message).where(Message.key == f"reply:{sid}"))
        if earlier is not None:
            return earlier.body or None, []
    received = Message(key=f"in:{sid}" if sid else None, direction="inbound", channel="sms", to_phone=to[:32],
                       from_phone=sender, body=body[:1600], status="received", provider_sid=sid, created_at=now)
    session.add(received)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return DUPLICATE, None
    # The message, its effect and its answer commit together: if acting fails, nothing is kept and
    # Twilio's retry (or the spool replay) handles the message afresh instead of seeing a duplicate.
    text, follow, order_id, case_id = _act(session, sender, body, settings, now, sid)
    # Filed under the order or case they were about, so the console's privacy split applies to them too.
    received.order_id, received.case_id = order_id, case_id
    if answer_by_outbox and text and sid:
        answer = queue_message(session, f"reply:{sid}", sender, text, order_id=order_id, case_id=case_id)
        session.commit()
        return text, [*follow, deferred.send(answer.id)]
    session.add(Message(key=f"reply:{sid}" if sid else None, direction="outbound", channel="sms",
                        to_phone=sender, from_phone=to[:32], body=text or "", status="twiml", created_at=now,
                        order_id=order_id, case_id=case_id))
    session.commit()
    return text, follow


def _act(session: Session, sender: str, body: str, settings: DispatchSettings, now: datetime, sid: str | None):
    """(answer text, follow-up, order id, case id): what the SMS did and what it was about."""
    reply = parse(body)
    if reply.intent == "optout":
        return None, [], None, None  # STOP/START/HELP belong to the carrier, never to an offer
    tech = technician_by_phone(session, sender)
    officer = officer_by_phone(session, sender)
    worker = worker_by_phone(session, sender)
    if worker is not None:
        # Before the officer's acknowledgement: `收到 CODE` from a case worker with an open task on that case is
        # about the task. Someone who is also an officer or technician keeps their own path for anything else.
        handled = handle_task_sms(session, worker, body, settings, now,
                                  only_if_open=officer is not None or tech is not None)
        if handled is not None:
            log.info("SMS %s from case worker %d: task reply", (sid or "")[-8:], worker.id)
            text, case = handled
            return text, [], None, case.id if case is not None else None
    ack = parse_ack(body)
    if ack is not None and officer is not None:
        log.info("SMS %s from officer %d: acknowledgement", (sid or "")[-8:], officer.id)
        text, case = acknowledge_by_sms(session, officer, ack.code, settings, now)
        return text, [], None, case.id if case is not None else None
    if tech is None and officer is not None:
        return render(settings.ivr_language, "officer_help"), [], None, None
    if tech is None:
        log.info("SMS from unregistered number %s ignored", mask(sender))
        return render(settings.ivr_language, "unknown_sender"), [], None, None
    log.info("SMS %s from technician %d: %s", (sid or "")[-8:], tech.id, reply.intent)
    text, follow, order = handle_reply(session, tech, reply, settings, now)
    return text, follow, order.id if order is not None else None, None
