"""When the database is down a caller still reaches a person: fallback TwiML that needs neither the
database nor Redis, also served at /twilio/fallback (the numbers' Fallback URL in the Twilio console)."""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, request
from sqlalchemy.exc import DBAPIError, OperationalError

from dispatch.spool import spool
from hotline import db
from hotline.webhooks.twilio_inbound import sms_answer, twilio_signed
from ivr_flows import twiml as tw
from ivr_flows.prompts import text

log = logging.getLogger(__name__)
bp = Blueprint("fallback", __name__, url_prefix="/twilio")


def fallback_twiml():
    """An apology in Mandarin and a transfer to HOTLINE_FALLBACK_NUMBER (or where to call instead)."""
    settings = db.settings()
    lang = settings.ivr_language
    if not settings.fallback_number:
        return tw.speak(lang, [text(lang, "fallback_no_number")], hangup=True)
    return tw.transfer(lang, [text(lang, "fallback_apology")], settings.fallback_number)


@bp.post("/fallback")
@twilio_signed
def fallback():
    """Twilio's Fallback URL: the primary handler failed or timed out."""
    log.error("Twilio used the fallback URL for %s", request.form.get("CallSid", "")[-8:] or "a request")
    if request.form.get("MessageSid") and not request.form.get("CallSid"):
        return sms_answer(None)
    return Response(str(fallback_twiml()), mimetype="text/xml")


def database_down(exc: Exception):
    """A webhook that hit a database failure: keep it for replay and still answer Twilio with TwiML."""
    if not request.path.startswith("/twilio/"):
        return {"error": "database unavailable"}, 503
    log.error("database unavailable during %s (%s): answering with the fallback", request.path,
              type(exc).__name__)
    spool(db.queue().connection, request.path, request.form.to_dict(flat=False))
    if request.path.startswith("/twilio/sms"):
        return sms_answer(None)  # the answer follows by SMS on replay
    return Response(str(fallback_twiml()), mimetype="text/xml")


def register(app: Flask) -> None:
    """Serve the fallback route and turn database failures in webhooks into fallback TwiML."""
    app.register_blueprint(bp)
    app.register_error_handler(OperationalError, database_down)
    app.register_error_handler(DBAPIError, database_down)
