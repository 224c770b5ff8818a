"""The request's database session and queue, built from what the app factory stored."""
from __future__ import annotations

from flask import current_app, g


def session():
    """The session of this request (closed at teardown)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["hotline"].session_factory()
    return g.db_session


def queue():
    """The RQ queue (Redis is contacted only when a job is enqueued)."""
    return current_app.extensions["hotline"].queue


def close_session(_exc=None) -> None:
    """Teardown: give the connection back to the pool."""
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
