"""The satisfaction call's webhook: ask the resident to rate the service, store the first 1/2/3 pressed.

The outbound call (dispatch/satisfaction.py) only redirects here, so the question, the re-ask and the
thanks are all spoken from the IVR prompts, in one place per language.
"""
from __future__ import annotations

import logging

from flask import Blueprint, request

from dispatch.satisfaction import NOT_SATISFIED, RATINGS, record_rating
from hotline import db
from hotline.webhooks.calls import language, public_url, small_int, twiml
from hotline.webhooks.receipts import twilio_webhook
from hotline.webhooks.twilio_inbound import key_press
from ivr_flows import twiml as tw
from ivr_flows.prompts import text
from models import Order, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("satisfaction", __name__, url_prefix="/twilio/voice")
# Older callers need time to find the key; Twilio's default of 5 s is too short.
GATHER_SECONDS = 10


def ask(lang: str, order_id: int, again: bool = False):
    """The question in a one-key Gather, asked a second time on silence, then a polite goodbye.

    `again` (after a key other than 1-3) starts with "that key is not valid" and marks the action URL, so a
    second wrong key ends the call instead of asking for ever.
    """
    url = public_url("satisfaction.rate", order=order_id, **({"again": 1} if again else {}))
    opening = text(lang, "invalid") if again else text(lang, "satisfaction_intro")
    rounds = ([opening, text(lang, "satisfaction_question")], [text(lang, "satisfaction_question")])
    return tw.ask_key(lang, rounds, url, GATHER_SECONDS, text(lang, "satisfaction_goodbye"))


def _goodbye(lang: str, key: str = "satisfaction_goodbye"):
    return tw.speak(lang, [text(lang, key)], hangup=True)


@bp.post("/satisfaction")
@twilio_webhook
def rate():
    """The satisfaction call: no key yet asks the question; 1/2/3 is stored (the first one only); others re-ask once."""
    session = db.session()
    lang = language()
    order_id = small_int(request.args.get("order"))
    order = session.get(Order, order_id) if order_id is not None else None
    if order is None or order.satisfaction_call_at is None:
        # Not an order we called: say goodbye and change nothing.
        log.warning("satisfaction webhook for order %s, which was never called", order_id)
        return twiml(_goodbye(lang))
    digits = key_press().digits
    if digits is None:  # the call was just answered (its TwiML redirected here)
        return twiml(ask(lang, order.id))
    rating = int(digits) if digits in {str(r) for r in RATINGS} else None
    if rating is None:
        return twiml(_goodbye(lang) if request.args.get("again") else ask(lang, order.id, again=True))
    first = record_rating(session, order, rating, utcnow())
    session.commit()
    follow_up = first and rating == NOT_SATISFIED
    return twiml(_goodbye(lang, "satisfaction_thanks_follow_up" if follow_up else "satisfaction_thanks"))
