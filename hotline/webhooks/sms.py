"""Inbound SMS webhook: technicians' replies to offers and officers' acknowledgements of child-line alerts."""
from __future__ import annotations

from flask import Blueprint

from dispatch.inbound import DUPLICATE, receive_sms
from dispatch.jobs import schedule
from hotline import db
from hotline.webhooks.receipts import twilio_webhook
from hotline.webhooks.twilio_inbound import inbound_sms, sms_answer
from models import utcnow

bp = Blueprint("sms", __name__, url_prefix="/twilio")


@bp.post("/sms")
@twilio_webhook
def incoming():
    """Twilio's "A message comes in": log it, act on it, answer with a confirmation."""
    text, follow = receive_sms(db.session(), inbound_sms(), db.settings(), utcnow())
    if text is DUPLICATE:  # the same MessageSid in parallel: the first request answers
        return sms_answer(None)
    if follow:
        schedule(db.queue(), follow)
    return sms_answer(text)
