"""Console sign-ins on the server: started at login, looked up on every console request, ended for good.

The cookie (signed, HttpOnly) carries only a random token, besides the CSRF token and the language; the
`console_sessions` row for the token's hash decides. A request is signed in only while that row is not
ended, began less than SESSION_MAX_HOURS ago, was seen within SESSION_IDLE_MINUTES, and its user is active.
"""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import g, request, session

from hotline import db
from models import ConsoleSession, StaffUser, end_user_sessions, session_with_user, token_hash, utcnow

log = logging.getLogger(__name__)
COOKIE_KEY = "sid"
ENDED_KEY = "ended"  # the cookie named a session that has ended since
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
# Requests a page makes by itself (auto-refresh, polling): they keep nobody signed in, so a screen left
# open on a shared PC still times out.
PASSIVE_ENDPOINTS = frozenset({"board.rows", "softphone.sms_inbox"})


def _lifetimes() -> tuple[timedelta, timedelta]:
    settings = db.settings()
    return timedelta(minutes=settings.session_idle_minutes), timedelta(hours=settings.session_max_hours)


def start(user: StaffUser) -> None:
    """Sign `user` in on this browser: a fresh cookie (new token, new CSRF token) and its row (caller commits)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    token = secrets.token_urlsafe(32)
    session[COOKIE_KEY] = token
    now = utcnow()
    row = ConsoleSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                         remote_addr=(request.remote_addr or "")[:64])
    db.session().add(row)
    db.session().flush()
    g.console_session_id = row.id


def _end_reason(row: ConsoleSession, user: StaffUser) -> str:
    """Why this session no longer signs anyone in ("" while it still does)."""
    if row.ended_at is not None:
        return row.end_reason or "ended"
    if not user.active:
        return "deactivated"
    idle, longest = _lifetimes()
    now = utcnow()
    if now - row.created_at >= longest:
        return "expired"
    if now - row.last_seen_at >= idle:
        return "idle"
    return ""


def resolve() -> StaffUser | None:
    """The user this request's cookie signs in, if any; an active request refreshes last_seen_at (once a minute).

    Sets g.session_ended when the cookie named a session that has ended (for the "sign in again" message).
    Called before the view runs, so its commit carries nothing of the view's."""
    token = session.get(COOKIE_KEY)
    if not isinstance(token, str) or not token:
        return None
    found = session_with_user(db.session(), token)
    reason = _end_reason(*found) if found else "unknown"
    if reason:
        if found and found[0].ended_at is None:
            found[0].ended_at, found[0].end_reason = utcnow(), reason
            db.session().commit()
            log.info("console session of %s ended: %s", found[1].username, reason)
        session.pop(COOKIE_KEY, None)
        # Kept in the cookie until a page says so: the board's refresh may be the first to find the session
        # ended, and its 401 must not swallow the "sign in again" message of the user's next click.
        session[ENDED_KEY] = True
        g.session_ended = True
        return None
    row, user = found
    g.console_session_id = row.id
    if request.endpoint not in PASSIVE_ENDPOINTS and utcnow() - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = utcnow()
        db.session().commit()
    return user


def end_current(reason: str) -> None:
    """Logout: end this browser's session row and forget the cookie (commits)."""
    session_id = g.get("console_session_id")
    if session_id is not None:
        row = db.session().get(ConsoleSession, session_id)
        if row is not None and row.ended_at is None:
            row.ended_at, row.end_reason = utcnow(), reason
            db.session().commit()
    session.clear()


def end_all(user: StaffUser, reason: str) -> int:
    """End every session of `user`, on every browser (caller commits); returns how many were open."""
    ended = end_user_sessions(db.session(), user.id, reason)
    log.info("console sessions of %s ended (%s): %d", user.username, reason, ended)
    return ended


def open_since():
    """(seen since, begun since): a session seen and begun after these is still open."""
    idle, longest = _lifetimes()
    now = utcnow()
    return now - idle, now - longest
