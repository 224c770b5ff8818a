"""Webhooks that arrived while the database was down, kept in Redis and replayed when it is back.

The caller already got the fallback TwiML (an apology and a transfer); the replay makes sure the call is
logged and a technician's SMS reply still takes effect (its answer then goes out as an SMS).

Every worker's reconcile thread replays, so one replays at a time (a lock in Redis) and an entry leaves the
list by value, never by position: two replays that overlap anyway (an expired lock) cannot drop an entry
neither applied. An entry that fails for any reason but an unreachable database is set aside in
SPOOL_FAILED_KEY for a person, so it cannot hold up the entries behind it or the reconcile pass after it.
"""
from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timezone
from typing import cast

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from models import CALL_ENDED, call_by_sid, log_call, utcnow
from models.phone import mask, try_normalise

from . import deferred
from .casework import missed_during_outage
from .inbound import DUPLICATE, receive_sms
from .jobs import schedule
from .outbox import queue_message
from .providers import InboundSms
from .runtime import Runtime

log = logging.getLogger(__name__)
SPOOL_KEY = "hotline:spool"
SPOOL_FAILED_KEY = "hotline:spool:failed"
REPLAY_LOCK_KEY = "hotline:spool:replaying"
REPLAY_LOCK_SECONDS = 120
# Deletes the lock only if it is still ours (it may have expired and been taken by another worker).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
BATCH = 200


def spool(connection: Redis, path: str, form: dict[str, list[str]]) -> bool:
    """Keep one webhook for later; False (logged) if Redis is down too."""
    try:
        connection.rpush(SPOOL_KEY, json.dumps({"path": path, "form": form, "at": utcnow().isoformat()}))
        return True
    except RedisError as exc:
        log.error("database and Redis both unavailable: webhook to %s from %s not kept (%s)", path,
                  mask(try_normalise((form.get("From") or [""])[0]) or "-"), type(exc).__name__)
        return False


def replay(rt: Runtime) -> int:
    """Apply spooled webhooks to the database (oldest first); returns how many were replayed.

    Returns 0 at once while another worker replays. Raises (keeping the entry) when the database is
    still unreachable: the next reconcile round tries again.
    """
    connection = rt.queue.connection
    token = secrets.token_hex(8)
    if not connection.set(REPLAY_LOCK_KEY, token, nx=True, ex=REPLAY_LOCK_SECONDS):
        return 0
    try:
        done = _replay_batch(rt, connection)
    finally:
        connection.eval(_RELEASE, 1, REPLAY_LOCK_KEY, token)
    if done:
        log.info("replayed %d webhook(s) received while the database was down", done)
    return done


def _replay_batch(rt: Runtime, connection: Redis) -> int:
    done = 0
    for _ in range(BATCH):
        raw = connection.lindex(SPOOL_KEY, 0)
        if raw is None:
            break
        try:
            _apply(rt, raw)
        except Exception as exc:  # noqa: BLE001 - sorted below: transient re-raised, the rest set aside
            if _database_unreachable(exc):
                raise
            log.error("a spooled webhook could not be replayed (%s): set aside in %s", type(exc).__name__,
                      SPOOL_FAILED_KEY)
            with connection.pipeline() as pipe:  # moved in one step: kept in exactly one of the lists
                pipe.rpush(SPOOL_FAILED_KEY, raw)
                pipe.lrem(SPOOL_KEY, 1, cast(str, raw))  # redis-py types value as str; it sends bytes as is
                pipe.execute()
            continue
        # Only after the database took it: a crash replays it (idempotently).
        connection.lrem(SPOOL_KEY, 1, cast(str, raw))
        done += 1
    return done


def _apply(rt: Runtime, raw: bytes | str) -> None:
    item = json.loads(raw)
    form = {k: (v[0] if v else "") for k, v in item["form"].items()}
    with rt.session_factory() as session:
        if item["path"].startswith("/twilio/sms"):
            _replay_sms(rt, session, form)
        elif form.get("CallSid"):
            _replay_call(rt, session, form, _when(item), _pressed_child_key(rt, item["path"], form))


def _database_unreachable(exc: Exception) -> bool:
    """The database being down or busy (worth another try later), as opposed to this entry being bad."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def _when(item: dict) -> datetime:
    """When the webhook arrived (now, for an entry without a readable time)."""
    try:
        at = datetime.fromisoformat(item.get("at", ""))
    except (TypeError, ValueError):
        return utcnow()
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def _pressed_child_key(rt: Runtime, path: str, form: dict) -> bool:
    """The caller pressed the child-line key of the number both lines share (it means that at every menu node, so
    the spooled key alone tells; the menu state was in the URL's query, which the spool does not keep)."""
    key = rt.settings.child_line_key
    return bool(key) and path == "/twilio/voice/menu" and form.get("Digits", "")[:1] == key


def _replay_call(rt: Runtime, session, form: dict, at: datetime, child_key: bool = False) -> None:
    """Log the call once; its final status callback, if that was spooled too, ends it. A call whose child-line
    key (`child_key`) met the outage is a child-line call from then on, missed like one dialled directly."""
    row = call_by_sid(session, form["CallSid"][:64])
    if row is not None and child_key:
        row.line = "child"  # its greeting was logged on the elderly line before the database went
    if row is None:
        caller = try_normalise(form.get("From")) or form.get("From", "")[:32]
        to = try_normalise(form.get("To")) or form.get("To", "")[:32]
        line = "child" if to == rt.settings.child_number or child_key else "elderly"
        # The call's own webhook, now that the database is back, may have logged it just now: that row stays.
        row, _ = log_call(session, call_sid=form["CallSid"][:64], from_phone=caller, to_phone=to, line=line,
                          started_at=at, status=form.get("CallStatus", "")[:20] or "in-progress", outcome="fallback")
    status = form.get("CallStatus", "")[:20]
    if status in CALL_ENDED and row.ended_at is None:  # as the status webhook would have: once, never undone
        duration = form.get("CallDuration", "")
        row.status, row.ended_at = status, at
        row.duration_s = int(duration) if duration.isascii() and duration.isdigit() and len(duration) < 9 else None
    follow = missed_during_outage(session, row, rt.settings, at, utcnow()) if row.line == "child" else []
    session.commit()
    schedule(rt.queue, follow)


def _replay_sms(rt: Runtime, session, form: dict) -> None:
    sid = form.get("MessageSid", "")[:64] or None
    # The spool keeps the webhook's form as it came (Twilio's fields); the event is what the SMS said.
    sms = InboundSms(sid, form.get("From", ""), form.get("To", ""), form.get("Body", ""))
    text, follow = receive_sms(session, sms, rt.settings, utcnow())
    if text is DUPLICATE or not text:
        return
    sender = try_normalise(form.get("From")) or form.get("From", "")
    message = queue_message(session, f"late-reply:{sid}", sender, text)
    session.commit()
    follow.append(deferred.send(message.id))
    schedule(rt.queue, follow)
