"""Inbound SMS webhook: technicians' replies to offers and officers' acknowledgements of child-line alerts."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from dispatch.inbound import DUPLICATE, receive_sms
from dispatch.jobs import schedule
from models import utcnow

from . import db
from .webhooks import twilio_webhook

bp = Blueprint("sms", __name__, url_prefix="/twilio")


def answer(text: str | None) -> Response:
    """A TwiML answer: one message, or none."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), mimetype="text/xml")


@bp.post("/sms")
@twilio_webhook
def incoming():
    """Twilio's "A message comes in": log it, act on it, answer with a confirmation."""
    form = request.form
    text, follow = receive_sms(db.session(), form.get("MessageSid", "")[:64] or None, form.get("From", ""),
                               form.get("To", ""), form.get("Body", ""), current_app.config["HOTLINE"], utcnow())
    if text is DUPLICATE:  # the same MessageSid in parallel: the first request answers
        return answer(None)
    if follow:
        schedule(db.queue(), follow)
    return answer(text)
