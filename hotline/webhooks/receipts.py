"""One effect per delivery for the Twilio webhooks whose work is not idempotent by itself: one signature check,
then a receipt. (The elderly IVR's plain walk needs none: its statements are idempotent, see call_store.)

Twilio retries a webhook that timed out and can deliver one twice; status callbacks can repeat. A
delivery is identified by its route, query and parameters (not by `I-Twilio-Idempotency-Token`, which the
signature does not cover), and its receipt row is unique in the database: the first request handles it,
identical ones wait for that answer and get the same TwiML, and nothing happens twice. Receipts are purged
after a few days (models.receipts), so each view's effect is also idempotent by its content. The
database, not process memory, holds this, so it works across gunicorn workers and machines.

The receipt is claimed in the same transaction as the view's work and marked done with its answer in the
same commit, so a plain walk through the IVR costs one commit per webhook. While that transaction is open
the uncommitted receipt row holds the unique key: an identical delivery's INSERT waits on it (PostgreSQL's
row lock; SQLite's single writer lock), then inserts nothing once the answer is committed and reads the answer. If
the first request dies, its transaction dies with it (the server rolls back a dropped connection) and the waiting
duplicate takes the delivery over at once. A view that commits part-way (the order before its offer is
queued, a child-line case before it rings) commits a `pending` receipt: duplicates then poll for the answer,
and one left pending by a crash is taken over after STALE_SECONDS.
"""
from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from functools import lru_cache, wraps

from flask import Response, request
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from hotline import db
from hotline.webhooks.twilio_inbound import twilio_signed
from models import WebhookReceipt, utcnow

log = logging.getLogger(__name__)
RECEIPTS = WebhookReceipt.__table__  # the hot path writes receipts with Core statements, not the unit of work
WAIT_SECONDS = 10          # how long a duplicate waits for the first delivery's answer
STALE_SECONDS = 30         # a receipt pending this long was left by a crashed request: handle it again


def delivery_key() -> str:
    """A digest of everything that makes this delivery what it is."""
    digest = hashlib.sha256()
    digest.update(request.path.encode())
    # Not I-Twilio-Idempotency-Token: the signature does not cover it, so a replay could pick a new one, and
    # Twilio's own retries repeat the content anyway. (Receipts are purged: every view is idempotent by content too.)
    digest.update(b"?" + request.query_string)
    for name in sorted(request.form):
        # Distinct values, sorted, as Twilio's signature covers them: a pair repeated verbatim is the same delivery.
        for value in sorted(set(request.form.getlist(name))):
            digest.update(b"\0" + name.encode() + b"=" + value.encode())
    return digest.hexdigest()


@lru_cache(maxsize=None)
def _receipt_statements(dialect: str):
    """The claim and the answer of a receipt, built once: every webhook runs both, only the values differ."""
    claim = db.insert_or_ignore(RECEIPTS, dialect).values(
        key=bindparam("claim_key"), route=bindparam("claim_route"), status="pending", response="",
        mimetype="text/xml", created_at=bindparam("claim_at")).returning(RECEIPTS.c.id)
    answer = update(RECEIPTS).where(RECEIPTS.c.key == bindparam("answer_key")).values(
        status="done", response=bindparam("answer_text"), mimetype=bindparam("answer_type"))
    return claim, answer


def _insert_receipt(key: str) -> bool:
    """Add the pending receipt to the request's open transaction; False if another request holds the key.

    A Core INSERT ... ON CONFLICT DO NOTHING, not an ORM add and flush: this runs on every webhook. It waits on
    an identical delivery's uncommitted row like a plain INSERT would, then inserts nothing once that commits.
    """
    session = db.session()
    claim, _ = _receipt_statements(db.dialect_name())
    inserted = session.scalar(claim, {"claim_key": key, "claim_route": request.path[:200], "claim_at": utcnow()})
    if inserted is None:
        session.rollback()  # release what the attempt holds (SQLite's write lock) before waiting for the answer
        return False
    return True


def _claim(key: str) -> bool:
    """Claim the delivery without committing; one retry when the connection turned out dead.

    The pool pings a connection at checkout, but one can still die between the ping and the claim (a
    database restart at that moment). The claim is the request's first statement, so it is safe to repeat.
    """
    try:
        return _insert_receipt(key)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        db.session().rollback()
        log.warning("database connection lost since its last use (%s): reconnecting", type(exc.orig).__name__)
        return _insert_receipt(key)


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


def _store(key: str, response: Response) -> None:
    """Mark the receipt done with the answer, in the commit that also keeps the view's work."""
    session = db.session()
    answer = {"status": "done", "response": response.get_data(as_text=True),
              "mimetype": response.mimetype or "text/xml"}
    _, store = _receipt_statements(db.dialect_name())
    stored = session.execute(store, {"answer_key": key, "answer_text": answer["response"],
                                     "answer_type": answer["mimetype"]})
    if stored.rowcount == 0:
        # The view rolled back its transaction (a unique-key race it settled itself) and our claim with it:
        # keep the answer for Twilio's retries all the same, unless a duplicate has claimed the key since.
        session.execute(db.insert_or_ignore(RECEIPTS).values(key=key, route=request.path[:200],
                                                             created_at=utcnow(), **answer))
    session.commit()
    db.run_after_commit()


def once(view):
    """Run the view once per delivery, in one transaction with its receipt; duplicates get the stored answer."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = delivery_key()
        if not _claim(key):
            earlier = _answer_of(key)
            if earlier is not None:
                log.info("duplicate delivery to %s answered from its receipt", request.path)
                return earlier
        try:
            response = view(*args, **kwargs)
            if isinstance(response, Response) and response.status_code == 200:
                _store(key, response)
            else:
                db.session().rollback()  # not an answer Twilio can act on: keep nothing, let a retry run afresh
        except Exception:
            _forget(key)  # a failed delivery must not make Twilio's retry wait for an answer that never comes
            raise
        return response

    return wrapper


def twilio_webhook(view):
    """A Twilio webhook: signature first (403 and nothing else), then one effect per delivery."""
    return twilio_signed(once(view))
