"""`bench.profile_shares`: the anchors' stacks land in the same parts as the hotline's, waits are not CPU, and the
gap table splits the hotline's extra over the durable anchor part by part."""
from __future__ import annotations

import pytest

from bench.profile_shares import OWN_CODE, Profile, gap_rows, is_wait, part_of, worker_split

THREAD = ("Thread._bootstrap (threading.py:1002);_worker (concurrent/futures/thread.py:83);"
          "_WorkItem.run (concurrent/futures/thread.py:58)")
REQUEST = (f"{THREAD};ThreadWorker.handle (gunicorn/workers/gthread.py:353);"
           "ThreadWorker.handle_request (gunicorn/workers/gthread.py:400)")
VIEW = f"{REQUEST};Flask.wsgi_app (flask/app.py:1511);Flask.dispatch_request (flask/app.py:902)"
ANCHOR = f"{VIEW};greeting (/work/main/bench/anchor.py:60);checked (/work/main/bench/anchor.py:48)"


def _frames(stack: str) -> list[str]:
    return stack.split(";")


def test_the_anchors_signature_check_and_own_code_are_named_as_the_hotlines():
    assert part_of(_frames(f"{ANCHOR};RequestValidator.validate (twilio/request_validator.py:110);"
                           "RequestValidator.compute_signature (twilio/request_validator.py:100)")) == "signature check"
    assert part_of(_frames(ANCHOR)) == OWN_CODE
    assert part_of(_frames(f"{ANCHOR};Connection.wait (psycopg/connection.py:495)")).startswith("DB statement: bench.")


def test_blocking_leaves_are_waits_and_busy_ones_are_not():
    assert is_wait("Connection.wait (psycopg/connection.py:495)")
    assert is_wait("_worker (concurrent/futures/thread.py:81)")
    assert is_wait("EpollSelector.select (selectors.py:468)")
    assert not is_wait("BaseCursor._send_query_prepared (psycopg/_cursor_base.py:602)")
    assert not is_wait("RequestValidator.compute_signature (twilio/request_validator.py:100)")


def test_the_workers_cpu_is_split_over_busy_samples_only():
    profile = Profile()
    profile.add_raw("\n".join([
        f"{ANCHOR};RequestValidator.validate (twilio/request_validator.py:110) 30",
        f"{ANCHOR};Connection.wait (psycopg/connection.py:495) 500",  # py-spy called it active: it waits
        f"{ANCHOR};BaseCursor._send_query_prepared (psycopg/_cursor_base.py:602) 50",
        f"{THREAD.rsplit(';', 1)[0]};_worker (concurrent/futures/thread.py:81) 900",  # an idle pool thread
        "<module> (gunicorn/__main__.py:10);ThreadWorker.run (gunicorn/workers/gthread.py:425);"
        "ThreadWorker.is_parent_alive (gunicorn/workers/gthread.py:390) 20",
    ]))
    split = worker_split(profile, cpu_us=1000.0)
    assert sum(split.values()) == pytest.approx(1000.0)
    assert split["signature check"] == pytest.approx(300.0)
    assert split["DB driver (psycopg: send, wait, read the result)"] == pytest.approx(500.0)
    assert split["gunicorn outside a request (accept, poll, keep-alive)"] == pytest.approx(200.0)
    assert worker_split(Profile(), 1000.0) == {}


def test_the_gap_rows_put_the_largest_extra_first_and_their_shares_add_up():
    rows = gap_rows({"PostgreSQL": 400.0, "TwiML": 40.0, "RQ": 100.0}, {"PostgreSQL": 200.0, "RQ": 110.0})
    assert [r[0] for r in rows] == ["PostgreSQL", "TwiML", "RQ", "**all**"]
    assert rows[0][3:] == ["+200", "87%"]
    assert rows[2][3:] == ["-10", "-4%"]
    assert rows[-1] == ["**all**", "540", "310", "+230", "100%"]
