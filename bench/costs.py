"""What a webhook costs the whole box: CPU per request of each process that serves it, and WAL per walk.

A `Meter` samples, a few times a second while a load runs, the CPU time (user + system, /proc) of the app's
gunicorn workers, of the PostgreSQL backends connected to the bench's database, of PostgreSQL's shared
background processes (WAL writer, checkpointer, background writer, autovacuum: cluster-wide), of the Redis
server and of the load generator, and PostgreSQL's WAL position. `window` reads those between two instants (the load
generator's measured window, interpolated between samples), so per-request figures come from the same window
as the request count. A process seen for the first time counts from then on (PostgreSQL backends are pooled:
they are there before the window opens).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from .stats import table

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
PERIOD = 0.2  # s between samples
BACKGROUND = ("walwriter", "checkpointer", "background writer", "autovacuum", "logical replication")
GROUPS = ("gunicorn workers", "PostgreSQL backends", "PostgreSQL background", "Redis server", "load generator")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def children(pid: int) -> list[int]:
    """A process's direct children (gunicorn's workers under its master)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def server_processes(database: str | None) -> dict[str, list[int]]:
    """PostgreSQL's backends on `database`, its background processes and the Redis server, by /proc."""
    found: dict[str, list[int]] = {"PostgreSQL backends": [], "PostgreSQL background": [], "Redis server": []}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        line = _cmdline(entry)
        if line.startswith("postgres: "):
            # an autovacuum worker names the database it vacuums: it is background work, not a statement's
            if any(name in line for name in BACKGROUND):
                found["PostgreSQL background"].append(int(entry))
            elif database and f" {database} " in line:
                found["PostgreSQL backends"].append(int(entry))
        elif line.startswith("redis-server"):
            found["Redis server"].append(int(entry))
    return found


@dataclass
class Sample:
    """Cumulative CPU seconds per group (since each process was first seen) and the WAL position, at `at`."""

    at: float
    cpu: dict[str, float]
    wal: int | None


@dataclass
class Meter:
    """Samples the box while a load runs: `start()`, run the load, `stop()`, then `window(t0, t1)`."""

    gunicorn_master: int
    database: str | None
    admin_url: str | None
    client_pid: int | None = None
    samples: list[Sample] = field(default_factory=list)
    _first: dict[int, float] = field(default_factory=dict)
    _last: dict[int, tuple[str, float]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin sampling in a background thread."""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Take a last sample and end the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT") if self.admin_url else None
        try:
            servers = server_processes(self.database)
            while True:
                self._sample(engine, servers)
                if self._stop.wait(PERIOD):
                    self._sample(engine, servers)
                    return
                servers = server_processes(self.database) if len(self.samples) % 5 == 0 else servers
        finally:
            if engine is not None:
                engine.dispose()

    def _sample(self, engine, servers: dict[str, list[int]]) -> None:
        groups = dict(servers, **{"gunicorn workers": children(self.gunicorn_master),
                                  "load generator": [self.client_pid] if self.client_pid else []})
        for group, pids in groups.items():
            for pid in pids:
                now = cpu_seconds(pid)
                if now is None:
                    continue
                self._first.setdefault(pid, now)
                self._last[pid] = (group, now)
        totals = dict.fromkeys(GROUPS, 0.0)
        for pid, (group, now) in self._last.items():
            totals[group] += now - self._first[pid]
        wal = None
        if engine is not None:
            with engine.connect() as conn:
                wal = int(conn.scalar(text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")))
        self.samples.append(Sample(time.time(), totals, wal))

    def window(self, t0: float, t1: float) -> dict[str, float]:
        """CPU seconds per group, and WAL bytes ("WAL bytes"), between wall-clock instants t0 and t1."""
        out = {group: _at(self.samples, t1, lambda s, g=group: s.cpu[g]) -
               _at(self.samples, t0, lambda s, g=group: s.cpu[g]) for group in GROUPS}
        if all(s.wal is not None for s in self.samples):
            out["WAL bytes"] = _at(self.samples, t1, lambda s: s.wal) - _at(self.samples, t0, lambda s: s.wal)
        return out


def _at(samples: list[Sample], t: float, value) -> float:
    """`value` of the samples linearly interpolated at instant t (clamped to the first and last sample)."""
    if not samples:
        return 0.0
    if t <= samples[0].at:
        return float(value(samples[0]))
    for before, after in zip(samples, samples[1:]):
        if before.at <= t <= after.at:
            span = after.at - before.at
            frac = (t - before.at) / span if span else 1.0
            return value(before) + frac * (value(after) - value(before))
    return float(value(samples[-1]))


def per_request(window: dict[str, float], requests: int, walks: int) -> dict[str, float]:
    """Microseconds of CPU per request for each group, and WAL bytes per walk."""
    out = {group: window[group] / requests * 1e6 if requests else 0.0 for group in GROUPS}
    if "WAL bytes" in window:
        out["WAL bytes per walk"] = window["WAL bytes"] / walks if walks else 0.0
    return out


SERVER_GROUPS = GROUPS[:4]  # what serves the webhook; the load generator is the client


def report_lines(closed: dict, levels: list[int], names: tuple[str, ...]) -> list[str]:
    """The closed loop's cost table: CPU µs per request of each process group, WAL per walk, for every app at
    every level; then, per level, how the hotline's extra over the durable anchor splits between the groups."""
    rows, gaps = [], []
    for level in levels:
        costs = {}
        for name in names:
            res = closed.get((name, level), {})
            if "cpu" not in res:
                continue
            costs[name] = per_request(res["cpu"], res["requests"], res["calls"])
            each = costs[name]
            rows.append([level, name, *(f"{each[g]:.0f}" for g in GROUPS),
                         f"{sum(each[g] for g in SERVER_GROUPS):.0f}",
                         f"{each['WAL bytes per walk'] / 1024:.1f}" if "WAL bytes per walk" in each else "-"])
        if "hotline" in costs and "durable" in costs:
            gap = {g: costs["hotline"][g] - costs["durable"][g] for g in SERVER_GROUPS}
            total = sum(gap.values())
            gaps.append([level, f"{total:+.0f}",
                         *(f"{gap[g]:+.0f} ({gap[g] / total * 100:.0f}%)" if total else f"{gap[g]:+.0f}"
                           for g in SERVER_GROUPS)])
    if not rows:
        return []
    lines = ["", "**What a request costs the box** (closed loop, the same windows as above: CPU µs per request of "
             "each process group, from /proc; PostgreSQL backends = those on the bench's database, background = "
             "its WAL writer, checkpointer, background writer and autovacuum, cluster-wide; Redis cluster-wide; "
             "WAL per walk from pg_current_wal_lsn, cluster-wide)", ""]
    lines += table(["calls", "app", *(f"{g} µs" for g in GROUPS), "server total µs", "WAL kB per walk"], rows)
    if gaps:
        lines += ["", "**The hotline's extra per request over the durable anchor**, by process group (µs, share of "
                  "the extra); the workers' part is split by function in the profile below", ""]
        lines += table(["calls", "extra µs per request", *SERVER_GROUPS], gaps)
    return lines
