"""The hot path on PostgreSQL: its statements stay key lookups however small the tables were when first planned,
and the driver's errors reach the app as SQLAlchemy raises them (call_store runs its SQL on psycopg directly).

A pooled connection keeps the plan it made after a few executions of a prepared statement (and of each foreign-key
check). Made on a new install's nearly empty tables, that plan was a sequential scan, read on every webhook as
the tables grew (models.base._keys_only).
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from dispatch.event_details import detail as event_detail
from hotline.webhooks import call_store
from models import CallLog, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.webhooks.elderly_calls import resident  # noqa: F401 - fixtures

SID = "CA" + "0" * 32


def _plans(conn) -> dict[str, str]:
    """EXPLAIN of the menu's and the order's statements, as the webhooks run them, and of a foreign-key check in
    the form PostgreSQL's referential triggers run it."""
    now, statements = utcnow(), call_store._statements("postgresql")
    values = {
        "set_path": {"b_sid": SID, "b_path": "2"},
        "order": {"b_sid": SID, "b_category": "housekeeping", "b_caller": people.RESIDENT_MOBILE, "b_now": now,
                  "b_path": "21", "b_detail": event_detail("by_phone", path="21"), "b_code": "123456"},
    }
    plans = {}
    for name, params in values.items():
        compiled = statements[name].compile(dialect=conn.dialect)
        rows = conn.exec_driver_sql("EXPLAIN " + compiled.string, compiled.construct_params(params))
        plans[name] = "\n".join(rows.scalars())
    rows = conn.exec_driver_sql("EXPLAIN SELECT 1 FROM ONLY orders x WHERE id = 1 FOR KEY SHARE OF x")
    plans["foreign key check"] = "\n".join(rows.scalars())
    return plans


def test_a_webhook_connection_plans_key_lookups_on_tables_still_empty(app, tw, resident):  # noqa: F811
    hot = app.extensions["hotline"].hot_engine
    if hot.dialect.name != "postgresql":
        pytest.skip("SQLite has no plan cache per connection to keep a scan in")
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.follow(call.follow(call.post("/twilio/voice"), Digits="2"), Digits="1")  # one order: the tables hold a row
    with app.extensions["hotline"].engine.begin() as conn:  # statistics taken now, as on a new install
        conn.exec_driver_sql("ANALYZE call_logs, orders, order_events")
    with hot.connect() as conn:
        plans = _plans(conn)
    for name, plan in plans.items():
        assert "Seq Scan" not in plan, f"{name}:\n{plan}"
        assert "Index Scan" in plan, f"{name}:\n{plan}"


def test_only_the_hot_path_pool_is_told_not_to_scan(app):
    """The app's own engine (pages, reports, the worker's jobs) plans as PostgreSQL chooses."""
    state = app.extensions["hotline"]
    if state.hot_engine.dialect.name != "postgresql":
        pytest.skip("SQLite shares the app's engine")
    with state.hot_engine.connect() as hot, state.engine.connect() as plain:
        assert hot.exec_driver_sql("SHOW enable_seqscan").scalar() == "off"
        assert plain.exec_driver_sql("SHOW enable_seqscan").scalar() == "on"


def test_a_statement_the_database_refuses_raises_sqlalchemys_error_and_writes_nothing(app, db):
    """The outage fallback and `db.hot`'s retry match SQLAlchemy's exceptions: a driver error must arrive as one."""
    hot = app.extensions["hotline"].hot_engine
    if hot.dialect.name != "postgresql":
        pytest.skip("SQLite runs the Core statements")
    with hot.connect() as conn:
        with pytest.raises(DataError) as raised:  # call_sid is 64 characters at most
            call_store.open_call(conn, "CA" + "9" * 80, people.RESIDENT_MOBILE, ELDERLY_NUMBER, "ringing", utcnow())
        assert not raised.value.connection_invalidated
        assert call_store.open_call(conn, SID, people.RESIDENT_MOBILE, ELDERLY_NUMBER, "ringing", utcnow()) is None
    assert db.scalar(select(func.count()).select_from(CallLog)) == 1  # the refused one left nothing
