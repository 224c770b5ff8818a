"""Declarative base, engine and session factory: the only place that knows how to reach the database."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Normalise to UTC before storing."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        """Give back an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def make_engine(url: str, **kwargs) -> Engine:
    """Build an engine for SQLite or PostgreSQL with the settings each needs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets the web process and the worker read while the other writes.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # A connection for each web thread (gthread) stays pooled: overflow connections are opened and closed
    # per request. Connections are renewed hourly, so none outlives a server-side idle or firewall cut-off.
    # The ping per checkout (~0.7 ms here) stays: after a PostgreSQL restart every page, not only the
    # webhooks that retry their first statement, must find a live connection.
    options = {"pool_size": 10, "max_overflow": 10, "pool_recycle": 3600, "pool_pre_ping": True}
    return create_engine(url, **{**options, **kwargs})


def make_hot_engine(engine: Engine) -> Engine:
    """The engine of the webhooks' hot path: on PostgreSQL a second pool in autocommit without the checkout
    ping, so a one-statement webhook costs one round trip (its statements are idempotent and are retried once
    on a connection found dead instead); on SQLite the same engine (one file, one writer)."""
    if engine.dialect.name != "postgresql":
        return engine
    hot = create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=10, max_overflow=10,
                        pool_recycle=3600, pool_pre_ping=False)
    event.listen(hot, "connect", _keys_only)
    return hot


def _keys_only(dbapi_conn, _record) -> None:
    """Plan the hot path's lookups on their unique keys whatever the tables' size when first planned.

    Each pooled connection keeps the generic plan of a prepared statement, and of each foreign-key check, that it
    made after a few executions. Made while `call_logs` or `orders` still held a page or two (a new install, a
    benchmark's fresh tables), that plan is a sequential scan, which then reads the whole growing table on every
    webhook until the connection is renewed or an ANALYZE invalidates it (never, on a server without autovacuum).
    Every statement of this pool is a lookup by a unique key, so the planner is told not to scan (a statement
    with no usable index would still run: the setting only prices a scan out of the choice)."""
    cursor = dbapi_conn.cursor()
    cursor.execute("SET enable_seqscan = off")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def sql_in(values: Iterable[str]) -> str:
    """`IN ('a', 'b')` for a CHECK constraint or a partial index over fixed status strings."""
    return "IN (" + ", ".join(f"'{v}'" for v in values) + ")"
