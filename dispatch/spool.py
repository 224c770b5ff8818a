"""Webhooks that arrived while the database was down, kept in Redis and replayed when it is back.

The caller already got the fallback TwiML (an apology and a transfer); the replay makes sure the call is
logged and a technician's SMS reply still takes effect (its answer then goes out as an SMS).
"""
from __future__ import annotations

import json
import logging

from redis import Redis
from redis.exceptions import RedisError

from models import CallLog, call_by_sid, utcnow
from models.phone import mask, try_normalise

from .inbound import DUPLICATE, receive_sms
from .jobs import schedule
from .outbox import queue_message
from .runtime import Runtime

log = logging.getLogger(__name__)
SPOOL_KEY = "hotline:spool"
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
    """Apply spooled webhooks to the database (oldest first); returns how many were replayed."""
    connection = rt.queue.connection
    done = 0
    for _ in range(BATCH):
        raw = connection.lindex(SPOOL_KEY, 0)
        if raw is None:
            break
        item = json.loads(raw)
        form = {k: (v[0] if v else "") for k, v in item["form"].items()}
        with rt.session_factory() as session:
            if item["path"].startswith("/twilio/sms"):
                _replay_sms(rt, session, form)
            elif form.get("CallSid"):
                _replay_call(rt, session, form)
        connection.lpop(SPOOL_KEY)  # only after the database took it: a crash replays it (idempotently)
        done += 1
    if done:
        log.info("replayed %d webhook(s) received while the database was down", done)
    return done


def _replay_call(rt: Runtime, session, form: dict) -> None:
    if call_by_sid(session, form["CallSid"]) is not None:
        return
    caller = try_normalise(form.get("From")) or form.get("From", "")[:32]
    to = try_normalise(form.get("To")) or form.get("To", "")[:32]
    line = "child" if to == rt.settings.child_number else "elderly"
    session.add(CallLog(call_sid=form["CallSid"][:64], from_phone=caller, to_phone=to, line=line,
                        status=form.get("CallStatus", "")[:20] or "in-progress", outcome="fallback"))
    session.commit()


def _replay_sms(rt: Runtime, session, form: dict) -> None:
    sid = form.get("MessageSid", "")[:64] or None
    text, follow = receive_sms(session, sid, form.get("From", ""), form.get("To", ""), form.get("Body", ""),
                               rt.settings, utcnow())
    if text is DUPLICATE or not text:
        return
    sender = try_normalise(form.get("From")) or form.get("From", "")
    message = queue_message(session, f"late-reply:{sid}", sender, text)
    session.commit()
    follow.messages.append(message.id)
    schedule(rt.queue, follow)
