"""The app's state (settings, engines, queue) and the request's database session, as the factory stored them.

`state()` and `settings()` are the one way to reach what the factory built (`app.extensions["hotline"]`);
code that holds the app object itself (the factory, the launcher) reads the same attribute.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import current_app, g
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from hotline.config import Settings
    from hotline.factory import HotlineState

log = logging.getLogger(__name__)


def state() -> HotlineState:
    """What the app factory built for the current app (settings, engines, session factory, queue)."""
    return current_app.extensions["hotline"]


def settings() -> Settings:
    """The current app's settings."""
    return state().settings


def session():
    """The session of this request (closed at teardown)."""
    if "db_session" not in g:
        g.db_session = state().session_factory()
    return g.db_session


def hot(work):
    """Run `work(connection)` on the hot-path engine, committed when it returns (on PostgreSQL each statement
    commits itself). Its statements are idempotent, so a connection found dead (a database restart since its
    last use; this pool does not ping) is replaced and the work run once more."""
    engine = state().hot_engine
    try:
        with engine.begin() as conn:
            return work(conn)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("database connection lost since its last use (%s): reconnecting", type(exc.orig).__name__)
    with engine.begin() as conn:
        return work(conn)


def queue():
    """The RQ queue (Redis is contacted only when a job is enqueued)."""
    return state().queue


def after_commit(action) -> None:
    """Run `action` once the webhook's transaction is committed (work for the queue: commit first, then enqueue)."""
    g.setdefault("after_commit", []).append(action)


def run_after_commit() -> None:
    """Carry out what the request deferred until its commit."""
    for action in g.pop("after_commit", []):
        action()


def dialect_name() -> str:
    """"postgresql" or "sqlite": the database this app talks to."""
    return session().get_bind().dialect.name


def insert_or_ignore(model, dialect: str | None = None):
    """An INSERT that does nothing when a unique key is already taken (PostgreSQL or SQLite)."""
    dialect = dialect or dialect_name()
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model).on_conflict_do_nothing()


def close_session(_exc=None) -> None:
    """Teardown: give the connection back to the pool."""
    g.pop("after_commit", None)  # a request that failed before its commit queues nothing
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
