"""The outbox: every outbound SMS or call is a row first (unique per purpose), then sent by a job."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from functools import cache
from typing import cast

from sqlalchemy import Connection, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from models import Message, utcnow
from models.phone import mask

from . import deferred
from .budget import HELD, SKIPPED_ERROR, Verdict, Window, decide
from .call_budget import LIMITED, decide_call
from .deferred import Work
from .providers import Outgoing, PhoneProvider, ProviderError, script_of
from .settings import DispatchSettings
from .texts import Rendered

log = logging.getLogger(__name__)
# Rows a send job may take: not yet sent, or sent with an unknown outcome (the provider decides about a resend).
SENDABLE = ("queued", "unknown")
# A send takes at most the provider timeout (10 s by default); a claim this old was left by a dead worker.
CLAIM_SECONDS = 30


# Set in session.info by a job that sends, right after its commit, the rows its transaction queues.
_SENDS_HERE = "outbox.sends_here"


def send_after_commit(session: Session) -> None:
    """Mark `session` as a job's that sends what it queues itself, once committed: new rows are queued claimed."""
    session.info[_SENDS_HERE] = []


def queue_message(session: Session, key: str, to: str, body: str, channel: str = "sms",
                  order_id: int | None = None, from_: str = "", case_id: int | None = None) -> Message:
    """The outbox row for `key`, created if new; a second call with the same key returns the first row."""
    existing = session.scalar(select(Message).where(Message.key == key))
    if existing is not None:
        return existing
    message = Message(key=key, direction="outbound", channel=channel, to_phone=to, from_phone=from_,
                      body=body, status="queued", order_id=order_id, case_id=case_id, **template_of(body))
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # another process queued the same purpose first
        # The row the IntegrityError says exists.
        return cast(Message, session.scalar(select(Message).where(Message.key == key)))
    return message


def queue_new(session: Session, rows: list[dict]) -> list[Message]:
    """Outbox SMS rows whose keys name rows made in this transaction (offer:<new attempt id>), in one INSERT.

    Nobody can have queued these keys yet, so there is no lookup first. In a session marked by
    send_after_commit() the rows are inserted claimed by this job (status `sending`): the claim commits with
    the rows themselves, so no worker ever sees them queued, which is claim()'s guarantee without its UPDATE.
    Each row gives key, to_phone, body and order_id; the messages come back in the session as if loaded.
    """
    now = utcnow()
    claims = session.info.get(_SENDS_HERE)
    claimed = {"status": "sending", "claimed_at": now, "attempts": 1} if claims is not None else \
        {"status": "queued", "claimed_at": None, "attempts": 0}
    full = [{"direction": "outbound", "channel": "sms", "from_phone": "", "case_id": None, "provider_sid": None,
             "merged_into_id": None, "error": None, "created_at": now, "sent_at": None, **claimed,
             **template_of(row["body"]), **row}
            for row in rows]
    ids = session.connection().execute(_statements()["insert"], full).scalars().all()
    messages = [as_loaded(session, Message(id=message_id, **row)) for message_id, row in zip(ids, full)]
    if claims is not None:
        claims.extend(messages)
    return messages


def template_of(body: str) -> dict:
    """The template columns of a row whose body is `body`: its kind and parameters when it was rendered as one."""
    if isinstance(body, Rendered):
        return {"template": body.kind, "template_params": json.dumps(body.params, ensure_ascii=False)}
    return {"template": None, "template_params": None}


def outgoing(message: Message) -> Outgoing:
    """What a provider is told of the row besides its text: key, kind, parameters, the attempt's number, its id."""
    params = json.loads(message.template_params) if message.template_params else {}
    return Outgoing(key=message.key or "", kind=message.template or "", params=params, attempt=message.attempts,
                    message_id=message.id or 0)


def as_loaded(session: Session, obj):
    """An object for a row this transaction just inserted with a plain statement, put in the session as if
    loaded: no second INSERT at the next flush, no SELECT to read it back."""
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def _claimable(now):
    """Queued, or claimed by a worker that died (a claim older than CLAIM_SECONDS)."""
    return or_(Message.status.in_(SENDABLE),
               and_(Message.status == "sending", Message.claimed_at < now - timedelta(seconds=CLAIM_SECONDS)))


def overdue_sends(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: outbound rows still queued since before `cutoff`, or claimed by a worker that died."""
    abandoned = now - timedelta(seconds=CLAIM_SECONDS)
    return deferred.sends(session.scalars(select(Message.id).where(
        Message.direction == "outbound",
        or_(and_(Message.status.in_(SENDABLE), Message.created_at <= cutoff),
            and_(Message.status == "sending", Message.claimed_at < abandoned)))))


def claim(session: Session, message_ids: list[int]) -> list[Message]:
    """Claim outbox rows for this worker (status `sending`) in the caller's transaction; the claimed rows, in order.

    Rows sent already, or being sent by another worker, are left out. Rows this transaction queued claimed
    (see send_after_commit) are this worker's already. The caller commits before sending.
    """
    queued_claimed = session.info.get(_SENDS_HERE)
    mine = {m.id: m for m in queued_claimed or ()}
    if queued_claimed:
        queued_claimed.clear()  # they belong to this transaction; the session's next one starts empty
    others = [i for i in message_ids if i not in mine]
    if others:
        now = utcnow()
        # Claim and read the rows in one statement (RETURNING): one round trip.
        mine.update((m.id, m) for m in session.scalars(
            update(Message)
            .where(Message.id.in_(others), _claimable(now))
            .values(status="sending", claimed_at=now, attempts=Message.attempts + 1)
            .returning(Message)
            .execution_options(populate_existing=True)
        ).all())
    return [mine[i] for i in dict.fromkeys(message_ids) if i in mine]


def release(session: Session, messages: list[Message]) -> None:
    """Give back claims this worker will not use (queued again, for any worker); rows taken over are left alone."""
    for message in messages:
        session.execute(update(Message)
                        .where(Message.id == message.id, Message.status == "sending",
                               Message.claimed_at == message.claimed_at)
                        .values(status="queued"))
    session.commit()


def deliver(session: Session, message_id: int, provider: PhoneProvider, from_: str,
            budget: tuple[Window, ...] = (), call_budget: tuple[Window, ...] = ()) -> Message | None:
    """Send one outbox row unless it was sent already or another worker is sending it; safe to run twice.

    The row is claimed (status `sending`) before the provider is called, so two workers never send it at
    once; a claim older than CLAIM_SECONDS belongs to a dead worker and may be taken over. That is the one
    window for a duplicate: the provider accepted the message and the worker died before recording its SID.
    Raises ProviderError for transient failures (the job retries); permanent failures mark the row failed.
    """
    claimed = claim(session, [message_id])
    session.commit()
    if not claimed:  # sent already, being sent by another worker, or gone
        return session.get(Message, message_id, populate_existing=True)
    return send_claimed(session, claimed[0], provider, from_, budget, call_budget)


def send_claimed(session: Session, message: Message, provider: PhoneProvider, from_: str,
                 budget: tuple[Window, ...] = (), call_budget: tuple[Window, ...] = ()) -> Message:
    """Send a row this worker claimed (the claim committed), then record its SID or its failure.

    An SMS over the recipient's `budget` (dispatch/budget.py) is not sent: held (status `held`) or, an offer,
    failed; a call over `call_budget` (dispatch/call_budget.py), or one the provider refuses for the number's
    limit, is held. Raises ProviderError for transient failures (the row is queued again); permanent ones mark
    it failed.
    """
    if message not in session:  # a row claimed in an earlier session (add() would open a transaction)
        session.add(message)
    windows = budget if message.channel == "sms" else call_budget
    if windows:
        decide_now = decide if message.channel == "sms" else decide_call
        decision = decide_now(session, message, windows, utcnow())
        if decision.verdict is not Verdict.SEND:
            return _over_budget(session, message, decision.verdict)
        session.commit()  # ends the budget's read: no transaction stays open while the provider is called
    sender = message.from_phone or from_
    try:
        if message.channel == "call":
            sent = provider.place_call(message.to_phone, script_of(message.body), sender, outgoing(message))
        else:
            sent = provider.send_sms(message.to_phone, message.body, sender, outgoing(message))
    except ProviderError as exc:
        message.error = str(exc)[:300]
        if exc.recipient_limited and message.channel == "call":
            return _call_refused(session, message)
        if not exc.permanent and not _moves_on(message, exc):
            log.warning("send %s to %s failed, will retry: %s", message.key, mask(message.to_phone), exc)
            # May have gone out: the next attempt lets the provider check before it sends again.
            message.status = "unknown" if exc.uncertain else "queued"
            session.commit()
            raise
        log.error("send %s to %s failed permanently: %s", message.key, mask(message.to_phone), exc)
        message.status = "failed"
        session.commit()
        return message
    _record_sent(session, message, sent.sid, sender, "local" if provider.local or sent.status == "local" else "sent")
    log.info("sent %s %s to %s (%s)", message.channel, message.key, mask(message.to_phone), message.status)
    return message


def _over_budget(session: Session, message: Message, verdict: Verdict) -> Message:
    """Hold an SMS the budget does not let out now, or fail an offer it skips (committed)."""
    if verdict is Verdict.SKIP:
        message.status, message.error = "failed", SKIPPED_ERROR
        log.warning("offer %s to %s not sent: over the SMS budget", message.key, mask(message.to_phone))
    else:
        message.status, message.claimed_at = HELD, None
        log.info("%s %s to %s held: over the %s budget", message.channel, message.key, mask(message.to_phone),
                 message.channel)
    session.commit()
    return message


def _call_refused(session: Session, message: Message) -> Message:
    """Hold a call the provider refused for the number's limit (committed): placed at the budget's next place.

    `claimed_at` stays the refused attempt's time: the call budget counts the refusal as a call then."""
    message.status, message.error = HELD, (LIMITED + (message.error or ""))[:300]
    log.warning("call %s to %s held: the provider refuses more calls to the number for now", message.key,
                mask(message.to_phone))
    session.commit()
    return message


def _moves_on(message: Message, exc: ProviderError) -> bool:
    """An offer to a number the provider limits for now is given up (the order goes to the next technician)."""
    return exc.recipient_limited and (message.key or "").startswith("offer:")


# Every column the SID store writes: the row object is kept equal to what was committed.
_SENT_COLUMNS = ("provider_sid", "from_phone", "status", "sent_at")


def _record_sent(session: Session, message: Message, sid: str, sender: str, status: str) -> None:
    """Store the SID of a row this worker claimed and sent: one UPDATE by id, committed at once.

    A plain Core statement rather than the unit of work: the row is ours (claimed), nothing else in the
    session is pending, and this runs once per message sent, so the ORM's flush bookkeeping was most of
    its cost. On a job's own connection (Runtime.job_session) with no transaction open, the statement
    commits by itself: one round trip instead of BEGIN, UPDATE and COMMIT, and just as atomic.
    """
    values = dict(zip(_SENT_COLUMNS, (sid, sender, status, utcnow())))
    params = {"message_id": message.id, **values}
    own = session.bind if isinstance(session.bind, Connection) else None
    if own is not None and not own.in_transaction():
        own.execution_options(isolation_level="AUTOCOMMIT")
        try:
            own.execute(_statements()["sent"], params)
            own.commit()  # only SQLAlchemy's bookkeeping: the driver committed the statement already
        finally:
            if own.in_transaction():
                own.rollback()
            own.execution_options(isolation_level=own.default_isolation_level)
    else:
        session.connection().execute(_statements()["sent"], params)
        session.commit()
    for column, value in values.items():
        set_committed_value(message, column, value)


@cache
def _statements() -> dict:
    """The per-message statements, built once per process (on first use): SQLAlchemy then skips building them."""
    table = cast(Table, Message.__table__)
    return {"insert": insert(table).returning(table.c.id, sort_by_parameter_order=True),
            "sent": update(table).where(table.c.id == bindparam("message_id"))}
