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
from .env import AUTH_TOKEN, ELDERLY_NUMBER, PY, Servers, find_servers, load_average
from .loadgen import ROUTES
from .profile_shares import Profile
from .stats import ms, pct, table
from .webhooks import THREADS, demo_callers

PY_SPY = str(Path(sys.executable).with_name("py-spy"))
DATABASE, REDIS_DB = "hotline_speed", 13   # not make bench's (hotline_bench, db 11)
TOP_DETAIL = 25
MODES = ("wall", "cpu")
SPY_START = 5  # s: py-spy takes a moment to attach under load; the load outlasts both recordings by this much


def _workers(master: int) -> list[int]:
    """The gunicorn master's worker processes."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _seed(servers: Servers, residents: int) -> None:
    servers.reset_schema()
    engine = make_engine(servers.database_url)
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
                  callers: list[str]) -> tuple[dict, dict[str, Profile]]:
    """One run at `level` concurrent calls: the load generator's figures and the workers' profiles, wall time
    then on-CPU time, `duration` s each."""
    workers = max(2, os.cpu_count() or 2)
    log = servers.workdir / f"gunicorn-{level}.log"
    proc, port = procs.gunicorn("app:app", server_flags(workers, THREADS), workers, servers.env(), log)
    out = servers.workdir / f"load-{level}.json"
    url = f"http://127.0.0.1:{port}"
    load_s = (duration + SPY_START) * len(MODES) if rate else duration
    try:
        load = subprocess.Popen([PY, "-m", "bench.loadgen", "--server", url, "--public", url, "--token", AUTH_TOKEN,
                                 "--to", ELDERLY_NUMBER, "--callers", ",".join(callers), "--concurrency",
                                 str(level), "--duration", str(load_s),
                                 "--warmup", str(warmup), "--out", str(out)])
        time.sleep(warmup)
        for mode in (MODES if rate else ()):
            _record(_workers(proc.pid), mode, rate, duration, servers.workdir / f"spy-{level}-{mode}")
        if load.wait(timeout=load_s + 60) != 0:
            raise RuntimeError("the load generator failed")
    finally:
        procs.stop(proc)
    servers.flush_redis()  # the committed orders' offer jobs: no worker here
    profiles = {}
    for mode in MODES:
        profiles[mode] = Profile()
        for path in servers.workdir.glob(f"spy-{level}-{mode}-*.txt"):
            profiles[mode].add_raw(path.read_text())
    return json.loads(out.read_text()), profiles


def _share(profile: Profile, counter: str, key) -> str:
    return f"{getattr(profile, counter)[key] / (profile.total or 1) * 100:.1f}%"


def report(level: int, load: dict, profiles: dict[str, Profile]) -> list[str]:
    """The run's figures and each part's share of the webhooks' wall time and on-CPU time, as markdown lines."""
    lat = load["latency"]
    per = " / ".join(f"{r} {ms(pct(lat[r], 50))}/{ms(pct(lat[r], 99))}" for r in ROUTES)
    wall, cpu = profiles["wall"], profiles["cpu"]
    note = "" if cpu.total else " (no on-CPU samples: py-spy saw only idle threads)"
    lines = [f"### {level} concurrent call{'s' if level > 1 else ''}{note}", "",
             f"{load['rps']:.0f} req/s (under the profiler), p50/p99 ms {per}, {load['errors']} errors; "
             f"{wall.total} wall and {cpu.total} on-CPU samples in requests.", ""]
    parts = [p for p, _ in (wall.parts + cpu.parts).most_common()]
    lines += table(["part of a webhook's time", "share of wall time", "share of on-CPU time"],
                   [[p, _share(wall, "parts", p), _share(cpu, "parts", p)] for p in parts])
    lines += ["", "By webhook:", ""]
    views = [v for v, _ in (wall.views + cpu.views).most_common()]
    lines += table(["view", "wall", "on-CPU"], [[v, _share(wall, "views", v), _share(cpu, "views", v)] for v in views])
    lines += ["", f"Top {TOP_DETAIL} (part, innermost project function), by wall time:", ""]
    lines += table(["part", "project function", "wall", "on-CPU"],
                   [[p, f, _share(wall, "detail", (p, f)), _share(cpu, "detail", (p, f))]
                    for (p, f), _ in wall.detail.most_common(TOP_DETAIL)])
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    """Command line: python -m bench.profile_webhooks [--levels 1,16,128] [--duration S] [--out FILE]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", default="1,16,128", type=lambda s: [int(x) for x in s.split(",")])
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
        callers = demo_callers() + [seed.resident_phone(i)
                                    for i in range(0, args.residents, max(1, args.residents // 200))]
        lines = [f"py-spy {args.rate} Hz per thread, the request threads' wall time (--idle) then on-CPU time; "
                 f"gunicorn {max(2, os.cpu_count() or 2)} workers × {THREADS} threads; load average "
                 f"{load_average()}.", ""]
        for level in args.levels:
            load, profiles = profile_level(servers, level, args.duration, args.warmup, args.rate, callers)
            lines += report(level, load, profiles)
            print("\n".join(report(level, load, profiles)), flush=True)
    finally:
        servers.flush_redis()
        servers.stop()
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
