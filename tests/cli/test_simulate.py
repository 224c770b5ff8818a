"""`flask simulate call|sms` against a running server: signed webhooks over HTTP, the TwiML walked as Twilio does."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from models import CallLog, Case, Order
from tests import people
from tests.conftest import CHILD_NUMBER

CALLER = "+8613904761234"


@pytest.fixture
def server(app):
    """The app served over HTTP on a free port, as `make run` serves it."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


def test_simulate_call_walks_the_menu_and_places_an_order(runner, server, db):
    people.resident(db, name="王秀英", phones=(CALLER,))
    result = runner.invoke(args=["simulate", "call", "--from", CALLER, "--keys", "2,1", "--server", server])
    assert result.exit_code == 0, result.output
    assert "王秀英您好" in result.output and "(call ends)" in result.output
    db.expire_all()
    order = db.scalars(select(Order)).one()
    assert order.category == "housekeeping" and " ".join(order.code) in result.output
    assert db.scalars(select(CallLog)).one().ended_at is not None  # the status callback was posted


def test_simulate_call_to_the_child_line_stops_where_the_officers_ring(runner, server, db):
    people.officer(db, "值班员甲", "+8613800002001", line="child")
    result = runner.invoke(args=["simulate", "call", "--from", CALLER, "--to", CHILD_NUMBER, "--server", server])
    assert result.exit_code == 0, result.output
    assert "ringing 1 officer(s)" in result.output
    db.expire_all()
    assert db.scalars(select(Case)).one().status == "missed"  # the caller hung up while it rang


def test_simulate_sms_prints_the_hotlines_answer(runner, server, db):
    people.technician(db, "李师傅", "+8613800001111")
    result = runner.invoke(args=["simulate", "sms", "--from", "+8613800001111", "--body", "1", "--server", server])
    assert result.exit_code == 0, result.output
    assert "✉" in result.output
