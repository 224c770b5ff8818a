"""The durable anchor: the floor a webhook with one durable write cannot go under.

The bare anchor's three routes, signature check and TwiML documents (`bench.anchor`), plus per webhook ONE row
upserted in autocommit (`bench_calls`, keyed on the CallSid: the step reached, the key pressed, when) and, on the
confirm webhook, after that write, ONE RQ job enqueued (`bench.noop.noop`, on the bench's Redis and queue). That
is what any webhook that remembers the call and hands the order to a worker must do at the least: one round trip
to the database, one to Redis on the order. Served with the hotline's gunicorn flags, on its database, through
the same kind of pool as the hotline's webhooks (`models.make_hot_engine`: autocommit, no checkout ping).
The bench creates the table (`reset_table`) before serving; the app never runs DDL.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite

from hotline.config import load_settings
from models import make_engine, make_hot_engine

from .anchor import create_anchor
from .noop import noop

BENCH_CALLS = Table(
    "bench_calls", MetaData(),
    Column("call_sid", String(64), primary_key=True),
    Column("step", String(16), nullable=False),
    Column("digits", String(8), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def _upsert(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(BENCH_CALLS)
    return statement.on_conflict_do_update(
        index_elements=["call_sid"],
        set_={"step": statement.excluded.step, "digits": statement.excluded.digits,
              "updated_at": statement.excluded.updated_at})


def reset_table(engine: Engine) -> None:
    """Drop and create `bench_calls` empty (the bench does this before each serve; the app never does)."""
    BENCH_CALLS.drop(engine, checkfirst=True)
    BENCH_CALLS.create(engine)


def create_app(base: str | None = None, auth_token: str | None = None, database_url: str | None = None,
               redis_url: str | None = None, queue_name: str | None = None) -> Flask:
    """The durable anchor; each argument defaults to the hotline's settings read from the bench's environment
    (PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN, DATABASE_URL, REDIS_URL, HOTLINE_QUEUE), as gunicorn serves
    `bench.durable_app:create_app()`: the same one reading of the environment the hotline does."""
    settings = load_settings()
    engine = make_hot_engine(make_engine(database_url or settings.database_url))
    upsert = _upsert(engine.dialect.name)
    queue = Queue(queue_name or settings.queue_name, connection=Redis.from_url(redis_url or settings.redis_url))

    def remember(route: str, form: dict) -> None:
        row = {"call_sid": form.get("CallSid", ""), "step": route, "digits": form.get("Digits", "")[:8],
               "updated_at": datetime.now(timezone.utc)}
        with engine.connect() as conn:
            conn.execute(upsert, row)
            conn.commit()  # no round trip on the autocommit pool; on SQLite it ends the one transaction
        if route == "confirm":  # commit first, then enqueue
            queue.enqueue(noop)

    app = create_anchor(base or settings.public_base_url, auth_token or settings.twilio_auth_token, remember)
    app.extensions["bench_engine"] = engine
    return app
