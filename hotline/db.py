"""The request's database session and queue, built from what the app factory stored."""
from __future__ import annotations

from flask import current_app, g
from sqlalchemy.dialects import postgresql, sqlite


def session():
    """The session of this request (closed at teardown)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["hotline"].session_factory()
    return g.db_session


def queue():
    """The RQ queue (Redis is contacted only when a job is enqueued)."""
    return current_app.extensions["hotline"].queue


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
