"""Benchmark 1: the elderly IVR walk under gunicorn beside two anchors (durable, bare), closed loop and paced.

The anchors (`bench.anchor`) answer the same three signed webhooks with fixed TwiML: the bare one does nothing
else, the durable one (`bench.durable_app`) upserts one row per webhook and enqueues one RQ job per order, the
least a webhook that remembers the call can do. All three are served at once with `make run`'s gunicorn flags
on the same database and Redis, and loaded one at a time, interleaved level by level, so the ratios compare runs
a few seconds apart on a shared machine.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
from dataclasses import dataclass

from sqlalchemy import make_url

from hotline.cli.launcher import server_flags
from hotline.config import Settings
from hotline.registry.demo import RESIDENTS_CSV
from models import make_engine
from models.phone import try_normalise

from . import procs
from .costs import Meter
from .durable_app import reset_table
from .env import AUTH_TOKEN, ELDERLY_NUMBER, PG_ADMIN_URL, PY, Servers
from .seed import resident_phone
from .webhooks_report import paced_ok, report

THREADS = Settings.web_threads  # gthread threads per worker, as `make run` serves (WEB_THREADS)
APPS = (("hotline", "app:app"), ("durable", "bench.durable_app:create_app()"), ("bare", "bench.bare_app:create_app()"))
# Paced: new calls per second, on past what a fast box answers; an app is not asked for more once a rate fails it.
RATES = (20, 50, 100, 150, 200, 300, 400)


@dataclass(frozen=True)
class Plan:
    """What one run measures and for how long (closed loop: per level; paced: per rate)."""

    headline: tuple[int, ...]  # concurrent calls of the headline ratios (the first: each webhook's own time)
    curve: tuple[int, ...]     # concurrent calls of the overload curve; its second level is the reference
    rates: tuple[int, ...]
    warmup: float
    duration: float
    paced_warmup: float        # until the paced load is steady: a call's webhooks span up to 2 × 6 s
    paced_duration: float
    rounds: int = 1            # closed loop: every level of every app this many times, interleaved

    @property
    def levels(self) -> list[int]:
        """Every closed-loop level, once, in order."""
        return sorted(set(self.headline) | set(self.curve))

    def measured(self, level: int) -> float:
        """Seconds measured at a closed-loop level (one call alone needs fewer: it has no queue to settle)."""
        return self.duration if level > 1 else self.duration / 2

    def seconds(self) -> float:
        """The load time of the whole benchmark at most (without server start-up; paced runs stop earlier once
        every app has failed a rate)."""
        closed = sum(self.warmup + self.measured(level) for level in self.levels) * len(APPS) * self.rounds
        return closed + (self.paced_warmup + self.paced_duration) * len(self.rates) * len(APPS)


# ~8 minutes of load in all: 3 rounds of 15 closed-loop runs and 15 paced runs (`make bench` near 11 minutes).
# This machine's speed drifts by a fifth within minutes (other tenants on its host): one 6 s window per app and
# level made a ratio of two windows a minute apart; three short rounds, the apps' order turned each round, give
# medians of windows seconds apart.
FULL = Plan(headline=(1, 16, 64), curve=(4, 16, 64, 128), rates=RATES, warmup=1.5, duration=4,
            paced_warmup=9, paced_duration=9, rounds=3)
SMOKE = Plan(headline=(1, 4), curve=(1, 4, 8), rates=(10,), warmup=1, duration=2, paced_warmup=4, paced_duration=4)


def bench_callers(residents: int) -> list[str]:
    """Who calls in a run: the demo residents and 200 of the seeded ones, spread over the registry."""
    return demo_callers() + [resident_phone(i) for i in range(0, residents, max(1, residents // 200))]


def demo_callers() -> list[str]:
    """The demo residents' mobile numbers (E.164), as the importer stores them."""
    phones = []
    for line in RESIDENTS_CSV.splitlines()[1:]:
        first = line.split(",")[1].replace("；", ";").split(";")[0]
        phones.append(try_normalise(first))
    return [p for p in phones if p]


def merge_rounds(runs: list[dict]) -> dict:
    """One closed-loop result from its rounds: the median round's rates, every round's latencies and errors."""
    merged = dict(runs[0])
    for key in ("rps", "calls_per_s", "client_cpu"):
        merged[key] = statistics.median(run[key] for run in runs)
    for key in ("window_s", "requests", "calls", "errors"):
        merged[key] = sum(run[key] for run in runs)
    merged["latency"] = {route: [x for run in runs for x in run["latency"][route]] for route in runs[0]["latency"]}
    merged["error_samples"] = sorted({e for run in runs for e in run["error_samples"]})[:3]
    merged["rounds_rps"] = [run["rps"] for run in runs]
    if all("cpu" in run for run in runs):
        merged["cpu"] = {key: sum(run["cpu"][key] for run in runs) for key in runs[0]["cpu"]}
    return merged


def paced_ladder(rates: tuple[int, ...], names: list[str], run_one) -> dict:
    """Each app at each rate, lowest first, until a rate fails it (`paced_ok`): past the rate a box answers it is
    not asked for more. `run_one(name, rate)` returns one paced run."""
    paced, failed = {}, set()
    for rate in sorted(rates):
        for name in names:
            if name in failed:
                continue
            paced[(name, rate)] = run_one(name, rate)
            if not paced_ok(paced[(name, rate)]):
                failed.add(name)
    return paced


def start_load(module: str, port: int, knob: list[str], warmup: float, duration: float, callers: list[str],
               out) -> subprocess.Popen:
    """A load generator (`bench.loadgen` or `bench.paced`) started against the app on `port`; it writes `out`."""
    url = f"http://127.0.0.1:{port}"
    return subprocess.Popen([PY, "-m", module, "--server", url, "--public", url, "--token", AUTH_TOKEN,
                             "--to", ELDERLY_NUMBER, "--callers", ",".join(callers), *knob,
                             "--duration", str(duration), "--warmup", str(warmup), "--out", str(out)],
                            cwd=os.getcwd())


def run_load(module: str, port: int, knob: list[str], warmup: float, duration: float, callers: list[str], out,
             meter: Meter | None = None) -> dict:
    """One load run; with a `meter`, the box's CPU and WAL over its measured window (`result["cpu"]`)."""
    load = start_load(module, port, knob, warmup, duration, callers, out)
    if meter is not None:
        meter.client_pid = load.pid
        meter.start()
    try:
        if load.wait() != 0:
            raise subprocess.CalledProcessError(load.returncode, module)
    finally:
        if meter is not None:
            meter.stop()
    result = json.loads(out.read_text())
    if meter is not None:
        result["cpu"] = meter.window(*result["window_at"])
    return result


def meter_of(servers: Servers, master: int) -> Meter:
    """A Meter of the app served by gunicorn `master` on the bench's servers (PostgreSQL's WAL when there)."""
    url = make_url(servers.database_url)
    database = url.database if url.get_backend_name() == "postgresql" else None
    return Meter(master, database, PG_ADMIN_URL if database else None)


def run(servers: Servers, residents: int, smoke: bool) -> dict:
    """The three apps side by side: closed loop at every level, then paced callers at every rate."""
    plan = SMOKE if smoke else FULL
    workers = max(2, os.cpu_count() or 2)
    callers = bench_callers(residents)
    print(f"webhooks: closed loop {plan.warmup:g} s warm-up + {plan.duration:g} s measured at {plan.levels} calls, "
          f"paced {plan.paced_warmup:g} s + {plan.paced_duration:g} s at {plan.rates} calls/s, 3 apps: "
          f"{plan.seconds():.0f} s of load", flush=True)
    engine = make_engine(servers.database_url)
    reset_table(engine)
    engine.dispose()
    env = servers.env()
    served = {}
    try:
        for name, target in APPS:
            served[name] = procs.gunicorn(target, server_flags(workers, THREADS), workers, env,
                                          servers.workdir / f"gunicorn-{name}.log")
        rounds: dict[tuple[str, int], list[dict]] = {}
        for turn in range(plan.rounds):
            for level in plan.levels:
                for name, _ in APPS[turn % len(APPS):] + APPS[:turn % len(APPS)]:
                    rounds.setdefault((name, level), []).append(run_load(
                        "bench.loadgen", served[name][1], ["--concurrency", str(level)], plan.warmup,
                        plan.measured(level), callers, servers.workdir / f"load-{name}-{level}-{turn}.json",
                        meter_of(servers, served[name][0].pid)))
                    servers.flush_redis()  # the orders' jobs: no worker in this benchmark
        closed = {key: merge_rounds(runs) for key, runs in rounds.items()}

        def paced_run(name: str, rate: int) -> dict:
            result = run_load("bench.paced", served[name][1], ["--rate", str(rate)], plan.paced_warmup,
                              plan.paced_duration, callers, servers.workdir / f"paced-{name}-{rate}.json")
            servers.flush_redis()
            return result

        paced = paced_ladder(plan.rates, [name for name, _ in APPS], paced_run)
    finally:
        for proc, _port in served.values():
            procs.stop(proc)
    return report(closed, paced, plan, workers, THREADS, len(callers))
