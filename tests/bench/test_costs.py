"""`bench.costs`: the CPU each process group spends and the WAL written, read over a load's window."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, make_url, text

from bench import costs
from bench.costs import GROUPS, Meter, Sample, cpu_seconds, per_request, server_processes

BURN = ("import time\ntime.sleep({idle})\nend = time.process_time() + {s}\nwhile time.process_time() < end: pass\n"
        "time.sleep({idle})")


def _sample(at: float, workers: float, wal: int | None = 0) -> Sample:
    return Sample(at, dict.fromkeys(GROUPS, 0.0) | {"gunicorn workers": workers}, wal)


def test_a_window_reads_the_samples_interpolated_at_its_two_instants():
    meter = Meter(0, None, None)
    meter.samples = [_sample(10.0, 0.0, 1000), _sample(11.0, 2.0, 3000), _sample(12.0, 2.0, 5000)]
    window = meter.window(10.5, 11.5)
    assert window["gunicorn workers"] == pytest.approx(1.0)  # 1.0 at 10.5, 2.0 at 11.5
    assert window["WAL bytes"] == pytest.approx(2000)
    assert window["Redis server"] == 0.0
    # instants outside the samples are clamped to the first and last one
    assert meter.window(0.0, 99.0)["gunicorn workers"] == pytest.approx(2.0)


def test_without_a_wal_position_the_window_has_no_wal_figure():
    meter = Meter(0, None, None)
    meter.samples = [_sample(1.0, 0.0, None), _sample(2.0, 1.0, None)]
    assert "WAL bytes" not in meter.window(1.0, 2.0)


def test_per_request_is_microseconds_per_request_and_wal_per_walk():
    window = dict.fromkeys(GROUPS, 0.0) | {"gunicorn workers": 0.3, "PostgreSQL backends": 0.06, "WAL bytes": 9000.0}
    costs = per_request(window, requests=300, walks=100)
    assert costs["gunicorn workers"] == pytest.approx(1000.0)
    assert costs["PostgreSQL backends"] == pytest.approx(200.0)
    assert costs["WAL bytes per walk"] == pytest.approx(90.0)
    assert per_request(window, 0, 0)["gunicorn workers"] == 0.0


def test_cpu_seconds_counts_a_busy_process_and_none_once_it_is_gone():
    proc = subprocess.Popen([sys.executable, "-c", BURN.format(s=0.3, idle=0)])
    time.sleep(0.1)
    pid = proc.pid
    proc.wait(timeout=30)
    # reaped: /proc no longer has it
    assert cpu_seconds(pid) is None
    assert cpu_seconds(os.getpid()) > 0


def test_the_meter_charges_a_masters_busy_child_to_the_workers():
    child = BURN.format(s=0.4, idle=0.5)
    master = subprocess.Popen([sys.executable, "-c",
                               f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"])
    meter = Meter(master.pid, None, None)
    meter.start()
    t0 = time.time()
    master.wait(timeout=30)
    t1 = time.time()
    meter.stop()
    window = meter.window(t0, t1)
    # the child's 0.4 s (it idles first, as a worker is there before the load): seen whole, nothing else counted
    assert 0.3 <= window["gunicorn workers"] <= 0.6
    assert window["load generator"] == 0.0


def test_postgres_backends_on_the_database_and_the_wal_they_write_are_metered(pg_url):
    if pg_url is None:
        pytest.skip("PostgreSQL only (HOTLINE_TEST_DATABASE_URL)")
    database = make_url(pg_url).database
    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
        assert pid in server_processes(database)["PostgreSQL backends"]
        assert pid not in server_processes("no_such_database")["PostgreSQL backends"]
        meter = Meter(0, database, pg_url)
        meter.start()
        time.sleep(0.3)
        t0 = time.time()  # a window that holds a sample on either side of the work, as a load's does
        time.sleep(0.5)
        conn.execute(text("SELECT count(*) FROM generate_series(1, 4000000)"))
        conn.execute(text("SELECT pg_logical_emit_message(false, 'bench-test', repeat('x', 200000))"))
        time.sleep(0.5)
        t1 = time.time()
        time.sleep(0.3)
        meter.stop()
    engine.dispose()
    window = meter.window(t0, t1)
    assert window["PostgreSQL backends"] > 0.05
    assert window["WAL bytes"] >= 200_000


def test_an_autovacuum_worker_on_the_database_is_background_not_a_backend(monkeypatch):
    lines = {"101": "postgres: 15/main: postgres hotline_bench 127.0.0.1(5432) idle ",
             "102": "postgres: 15/main: autovacuum worker hotline_bench ",
             "103": "postgres: 15/main: walwriter ",
             "104": "postgres: 15/main: postgres other_db [local] idle ",
             "105": "redis-server 127.0.0.1:6379"}
    monkeypatch.setattr(costs.os, "listdir", lambda path: [*lines, "self"])
    monkeypatch.setattr(costs, "_cmdline", lambda pid: lines.get(pid, ""))
    found = server_processes("hotline_bench")
    assert found == {"PostgreSQL backends": [101], "PostgreSQL background": [102, 103], "Redis server": [105]}
