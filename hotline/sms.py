"""Inbound SMS: technicians' replies to offers and officers' acknowledgements of child-line alerts.

Every message is logged; a repeat delivery has one effect."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from twilio.twiml.messaging_response import MessagingResponse

from dispatch.assignments import handle_reply
from dispatch.jobs import schedule
from dispatch.case_alerts import acknowledge_by_sms
from dispatch.replies import parse, parse_ack
from dispatch.texts import render
from models import Message, officer_by_phone, technician_by_phone, utcnow
from models.phone import mask, try_normalise

from . import db
from .security import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/twilio")


def _answer(text: str | None) -> Response:
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), mimetype="text/xml")


@bp.post("/sms")
@twilio_signed
def incoming():
    """Twilio's "A message comes in": parse the reply, act on it, answer with a confirmation."""
    settings = current_app.config["HOTLINE"]
    session = db.session()
    sid = request.form.get("MessageSid", "")[:64] or None
    sender = try_normalise(request.form.get("From")) or request.form.get("From", "")[:32]
    body = request.form.get("Body", "")
    if sid:
        earlier = session.scalar(select(Message).where(Message.key == f"reply:{sid}"))
        if earlier is not None:  # Twilio retried: same answer, no second effect
            return _answer(earlier.body or None)
    inbound = Message(key=f"in:{sid}" if sid else None, direction="inbound", channel="sms", to_phone=
                      request.form.get("To", "")[:32], from_phone=sender, body=body[:1600], status="received",
                      provider_sid=sid, created_at=utcnow())
    session.add(inbound)
    try:
        session.commit()
    except IntegrityError:  # the same MessageSid arriving in parallel: the first one answers
        session.rollback()
        return _answer(None)
    reply = parse(body)
    tech = technician_by_phone(session, sender)
    officer = officer_by_phone(session, sender)
    ack = parse_ack(body)
    if reply.intent == "optout":
        text, follow = None, None  # STOP/START/HELP belong to the carrier, never to an offer
    elif ack is not None and officer is not None:
        text, follow = acknowledge_by_sms(session, officer, ack.code, settings, utcnow()), None
        log.info("SMS %s from officer %d: acknowledgement", (sid or "")[-8:], officer.id)
    elif tech is None and officer is not None:
        text, follow = render(settings.ivr_language, "officer_help"), None
    elif tech is None:
        text, follow = render(settings.ivr_language, "unknown_sender"), None
        log.info("SMS from unregistered number %s ignored", mask(sender))
    else:
        text, follow = handle_reply(session, tech, reply, settings, utcnow())
        log.info("SMS %s from technician %d: %s", (sid or "")[-8:], tech.id, reply.intent)
    session.add(Message(key=f"reply:{sid}" if sid else None, direction="outbound", channel="sms",
                        to_phone=sender, from_phone=request.form.get("To", "")[:32], body=text or "",
                        status="twiml", created_at=utcnow()))
    session.commit()
    if follow:
        schedule(db.queue(), follow)
    return _answer(text)
