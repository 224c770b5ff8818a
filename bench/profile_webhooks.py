"""`make profile`: the hotline's webhook walk under `make bench`'s gunicorn and load, sampled by py-spy.

Serves `app:app` with the same flags as bench/webhooks.py (2 gthread workers × WEB_THREADS), drives it with
bench.loadgen (greeting -> menu -> confirm, signed) at each concurrency, records every worker with
`py-spy record` during the measured window (wall time with --idle, then on-CPU time) and prints each part's
share of the request threads' time (bench/profile_shares.py names the parts). Own database and Redis db.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from hotline.cli.launcher import server_flags
from models import make_engine, make_session_factory

from . import procs, seed
from .costs import SERVER_GROUPS, children, per_request
from .durable_app import reset_table
from .env import Servers, find_servers, load_average
from .loadgen import ROUTES
from .profile_shares import Profile, gap_rows, worker_split
from .stats import ms, pct, table
from .webhooks import APPS, THREADS, bench_callers, meter_of, run_load, start_load

PY_SPY = str(Path(sys.executable).with_name("py-spy"))
DATABASE, REDIS_DB = "hotline_speed", 13   # not make bench's (hotline_bench, db 11)
TOP_DETAIL = 25
MODES = ("wall", "cpu")
ACCOUNT_S = 8  # s of unprofiled load whose CPU per request is metered, before the profiler attaches
SPY_START = 5  # s: py-spy takes a moment to attach under load; the load outlasts both recordings by this much


def _seed(servers: Servers, residents: int) -> None:
    servers.reset_schema()
    engine = make_engine(servers.database_url)
    reset_table(engine)
    with make_session_factory(engine)() as session:
        seed.seed_demo(session, servers.settings().tz)
        seed.seed_residents(session, residents)
        seed.analyze(session)
    engine.dispose()


def _record(pids: list[int], mode: str, rate: int, duration: float, prefix: Path) -> None:
    """py-spy on every worker at once for `duration` s: "wall" counts waiting threads (--idle), "cpu" does not."""
    flags = ["--idle"] if mode == "wall" else []
    spies = [subprocess.Popen([PY_SPY, "record", "--pid", str(pid), *flags, "--rate", str(rate), "--duration",
                               str(int(duration)), "--format", "raw", "--output", f"{prefix}-{pid}.txt"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in pids]
    for spy in spies:
        spy.wait(timeout=duration + 60)


def profile_level(servers: Servers, level: int, duration: float, warmup: float, rate: int,
                  callers: list[str], app: str = "hotline") -> tuple[dict, dict[str, Profile], dict[str, float]]:
    """One app at `level` concurrent calls: first an unprofiled window whose CPU per request every process group
    spends is metered (`bench.costs`), then the workers' profiles, wall time then on-CPU time, `duration` s each.
    Returns the profiled run's load figures, the profiles and the metered costs (µs per request)."""
    workers = max(2, os.cpu_count() or 2)
    log = servers.workdir / f"gunicorn-{app}-{level}.log"
    proc, port = procs.gunicorn(dict(APPS)[app], server_flags(workers, THREADS), workers, servers.env(), log)
    out = servers.workdir / f"load-{app}-{level}.json"
    load_s = (duration + SPY_START) * len(MODES) if rate else duration
    try:
        metered = run_load("bench.loadgen", port, ["--concurrency", str(level)], warmup, ACCOUNT_S, callers,
                           servers.workdir / f"cost-{app}-{level}.json", meter_of(servers, proc.pid))
        servers.flush_redis()
        load = start_load("bench.loadgen", port, ["--concurrency", str(level)], warmup, load_s, callers, out)
        time.sleep(warmup)
        for mode in (MODES if rate else ()):
            _record(children(proc.pid), mode, rate, duration, servers.workdir / f"spy-{app}-{level}-{mode}")
        if load.wait(timeout=load_s + 60) != 0:
            raise RuntimeError("the load generator failed")
    finally:
        procs.stop(proc)
    servers.flush_redis()  # the committed orders' offer jobs: no worker here
    profiles = {}
    for mode in MODES:
        profiles[mode] = Profile()
        for path in servers.workdir.glob(f"spy-{app}-{level}-{mode}-*.txt"):
            profiles[mode].add_raw(path.read_text())
    return json.loads(out.read_text()), profiles, per_request(metered["cpu"], metered["requests"], metered["calls"])


def gap_report(level: int, runs: dict[str, tuple[dict, dict[str, Profile], dict[str, float]]]) -> list[str]:
    """What the hotline spends per request beyond the durable anchor, part by part (µs of CPU, share of the
    extra): the workers' CPU split by their on-CPU samples, then the servers' CPU (PostgreSQL, Redis)."""
    split = {}
    for app, (_load, profiles, cost) in runs.items():
        split[app] = worker_split(profiles["cpu"], cost["gunicorn workers"])
        split[app].update({f"{g} (server CPU)": cost[g] for g in SERVER_GROUPS[1:]})
    hotline, durable = runs["hotline"][2], runs["durable"][2]
    wal = (f" WAL per walk: hotline {hotline['WAL bytes per walk'] / 1024:.1f} kB, durable "
           f"{durable['WAL bytes per walk'] / 1024:.1f} kB." if "WAL bytes per walk" in hotline else "")
    lines = [f"### The hotline beside the durable anchor at {level} concurrent call{'s' if level > 1 else ''}", "",
             f"CPU per request, metered over {ACCOUNT_S:g} s without the profiler (`bench.costs`), the workers' "
             "part split by their on-CPU samples; the extra is what the hotline spends beyond the anchor, its share "
             f"the part of that extra.{wal}", ""]
    lines += table(["part", "hotline µs per request", "durable µs per request", "extra µs", "share of the extra"],
                   gap_rows(split["hotline"], split["durable"]))
    return lines + [""]


def _share(profile: Profile, counter: str, key) -> str:
    return f"{getattr(profile, counter)[key] / (profile.total or 1) * 100:.1f}%"


def report(level: int, load: dict, profiles: dict[str, Profile], app: str = "hotline",
           top: int = TOP_DETAIL) -> list[str]:
    """The run's figures and each part's share of the webhooks' wall time and on-CPU time, as markdown lines."""
    lat = load["latency"]
    per = " / ".join(f"{r} {ms(pct(lat[r], 50))}/{ms(pct(lat[r], 99))}" for r in ROUTES)
    wall, cpu = profiles["wall"], profiles["cpu"]
    note = "" if cpu.total else " (no on-CPU samples: py-spy saw only idle threads)"
    lines = [f"### {app} at {level} concurrent call{'s' if level > 1 else ''}{note}", "",
             f"{load['rps']:.0f} req/s (under the profiler), p50/p99 ms {per}, {load['errors']} errors; "
             f"{wall.total} wall and {cpu.total} on-CPU samples in requests.", ""]
    parts = [p for p, _ in (wall.parts + cpu.parts).most_common()]
    lines += table(["part of a webhook's time", "share of wall time", "share of on-CPU time"],
                   [[p, _share(wall, "parts", p), _share(cpu, "parts", p)] for p in parts])
    lines += ["", "By webhook:", ""]
    views = [v for v, _ in (wall.views + cpu.views).most_common()]
    lines += table(["view", "wall", "on-CPU"], [[v, _share(wall, "views", v), _share(cpu, "views", v)] for v in views])
    if top:
        lines += ["", f"Top {top} (part, innermost project function), by wall time:", ""]
        lines += table(["part", "project function", "wall", "on-CPU"],
                       [[p, f, _share(wall, "detail", (p, f)), _share(cpu, "detail", (p, f))]
                        for (p, f), _ in wall.detail.most_common(top)])
    return lines + [""]


def level_lines(servers: Servers, level: int, args, callers: list[str], top: int = TOP_DETAIL) -> list[str]:
    """Every app of `args.apps` profiled at `level` calls, one after the other: their shares, then the gap table."""
    runs = {app: profile_level(servers, level, args.duration, args.warmup, args.rate, callers, app)
            for app in args.apps}
    lines = []
    for app, (load, profiles, _cost) in runs.items():
        lines += report(level, load, profiles, app, top)
    if {"hotline", "durable"} <= set(runs) and args.rate:
        lines += gap_report(level, runs)
    return lines


def section(servers: Servers, residents: int, smoke: bool) -> dict:
    """`make bench`'s profile: the hotline and the durable anchor at 16 calls (smoke: 4, briefly), each part's
    share and the gap table, on the benchmark's database (seeded) and Redis."""
    args = argparse.Namespace(apps=["hotline", "durable"], duration=3 if smoke else 10, warmup=1 if smoke else 3,
                              rate=100 if smoke else 150)
    engine = make_engine(servers.database_url)
    reset_table(engine)
    engine.dispose()
    level = 4 if smoke else 16
    lines = [f"`make profile`'s measurement at {level} calls, taken by `make bench` after the webhook runs: py-spy "
             f"{args.rate} Hz per thread on the gunicorn workers, {args.duration:g} s of wall time (--idle) then "
             f"{args.duration:g} s on-CPU, each app after an unprofiled window whose CPU per request is metered. "
             "What the hotline spends beyond the durable anchor is named part by part in the last table; "
             "[PROFILE.md](PROFILE.md) keeps the history and what was cut.", ""]
    if not Path(PY_SPY).exists():
        return {"title": "Where the time goes (profile)", "targets": [],
                "lines": lines + [f"not taken: py-spy is not installed ({PY_SPY}; `make install-test`)"]}
    lines += level_lines(servers, level, args, bench_callers(residents), top=0)
    return {"title": "Where the time goes (profile)", "lines": lines, "targets": []}


def main(argv: list[str] | None = None) -> int:
    """Command line: python -m bench.profile_webhooks [--levels 1,16,128] [--duration S] [--out FILE]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", default="1,16,128", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--apps", default="hotline,durable", type=lambda s: s.split(","),
                        help="of hotline,durable,bare; with hotline and durable, the gap table at each level")
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rate", type=int, default=150,
                        help="py-spy samples per second per thread (0: no profiler, the figures alone)")
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--no-seed", action="store_true", help="keep the database of the previous run")
    parser.add_argument("--out", default=None, help="also write the report to this markdown file")
    args = parser.parse_args(argv)
    servers = find_servers(False, DATABASE, REDIS_DB)
    print(f"database: {servers.database_kind}; redis: {servers.redis_kind}; work dir {servers.workdir}", flush=True)
    try:
        if not args.no_seed:
            _seed(servers, args.residents)
        callers = bench_callers(args.residents)
        lines = [f"py-spy {args.rate} Hz per thread, the request threads' wall time (--idle) then on-CPU time; "
                 f"gunicorn {max(2, os.cpu_count() or 2)} workers × {THREADS} threads; load average "
                 f"{load_average()}.", ""]
        for level in args.levels:
            at_level = level_lines(servers, level, args, callers)
            lines += at_level
            print("\n".join(at_level), flush=True)
    finally:
        servers.flush_redis()
        servers.stop()
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
