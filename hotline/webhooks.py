"""Every Twilio webhook goes through here: one signature check, then one effect per delivery.

Twilio retries a webhook that timed out and can deliver one twice; status callbacks can repeat. A
delivery is identified by its route, query and parameters (and `I-Twilio-Idempotency-Token`, which a retry
repeats), and its receipt row is unique in the database: the first request handles it, identical ones
wait for that answer and get the same TwiML, and nothing happens twice. The database, not process
memory, holds this, so it works across gunicorn workers and machines.
"""
from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from functools import wraps

from flask import Response, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models import WebhookReceipt, utcnow

from . import db
from .security import twilio_signed

log = logging.getLogger(__name__)
WAIT_SECONDS = 10          # how long a duplicate waits for the first delivery's answer
STALE_SECONDS = 30         # a receipt pending this long was left by a crashed request: handle it again


def delivery_key() -> str:
    """A digest of everything that makes this delivery what it is."""
    digest = hashlib.sha256()
    digest.update(request.path.encode())
    digest.update(b"?" + request.query_string)
    digest.update(request.headers.get("I-Twilio-Idempotency-Token", "").encode())
    for name in sorted(request.form):
        # Distinct values, sorted, as Twilio's signature covers them: a pair repeated verbatim is the same delivery.
        for value in sorted(set(request.form.getlist(name))):
            digest.update(b"\0" + name.encode() + b"=" + value.encode())
    return digest.hexdigest()


def _claim(key: str) -> WebhookReceipt | None:
    """Insert the receipt; None if another request holds it (the caller then waits)."""
    session = db.session()
    session.add(WebhookReceipt(key=key, route=request.path[:200], status="pending", created_at=utcnow()))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return session.scalar(select(WebhookReceipt).where(WebhookReceipt.key == key))


def _answer_of(key: str) -> Response | None:
    """The first delivery's answer, once it is there; takes over a receipt abandoned by a crash."""
    session = db.session()
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        session.expire_all()
        receipt = session.scalar(select(WebhookReceipt).where(WebhookReceipt.key == key))
        if receipt is None:
            return None
        if receipt.status == "done":
            return Response(receipt.response, mimetype=receipt.mimetype)
        if time.monotonic() > deadline or receipt.created_at < utcnow() - timedelta(seconds=STALE_SECONDS):
            return None
        session.rollback()  # release the snapshot while waiting
        time.sleep(0.05)


def _forget(key: str) -> None:
    session = db.session()
    try:
        session.rollback()
        session.execute(delete(WebhookReceipt).where(WebhookReceipt.key == key, WebhookReceipt.status == "pending"))
        session.commit()
    except SQLAlchemyError:  # the database itself failed: the receipt will go stale and be taken over
        session.rollback()


def once(view):
    """Run the view once per delivery; duplicates get the stored answer."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = delivery_key()
        receipt = _claim(key)
        if receipt is None:
            earlier = _answer_of(key)
            if earlier is not None:
                log.info("duplicate delivery to %s answered from its receipt", request.path)
                return earlier
        try:
            response = view(*args, **kwargs)
        except Exception:
            _forget(key)  # a failed delivery must not make Twilio's retry wait for an answer that never comes
            raise
        if isinstance(response, Response) and response.status_code == 200:
            session = db.session()
            session.rollback()  # whatever the view left uncommitted is not ours to commit
            stored = session.scalar(select(WebhookReceipt).where(WebhookReceipt.key == key))
            if stored is not None:
                stored.status, stored.response = "done", response.get_data(as_text=True)
                stored.mimetype = response.mimetype or "text/xml"
                session.commit()
        return response

    return wrapper


def twilio_webhook(view):
    """A Twilio webhook: signature first (403 and nothing else), then one effect per delivery."""
    return twilio_signed(once(view))
