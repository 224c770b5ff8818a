"""Benchmark 1: the elderly IVR walk under gunicorn against a bare signature-checking Flask app, side by side."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from hotline.cli.launcher import server_flags
from hotline.config import Settings
from hotline.registry.demo import RESIDENTS_CSV
from models.phone import try_normalise

from . import procs
from .env import AUTH_TOKEN, ELDERLY_NUMBER, PY, Servers
from .loadgen import ROUTES
from .seed import resident_phone
from .stats import ms, pct, table, verdict

TARGET_RATIO, TARGET_P99 = 0.6, 0.025
THREADS = Settings.web_threads  # gthread threads per worker, as `make run` serves (WEB_THREADS)


def demo_callers() -> list[str]:
    """The demo residents' mobile numbers (E.164), as the importer stores them."""
    phones = []
    for line in RESIDENTS_CSV.splitlines()[1:]:
        first = line.split(",")[1].replace("；", ";").split(";")[0]
        phones.append(try_normalise(first))
    return [p for p in phones if p]


def _load(port: int, concurrency: int, duration: float, warmup: float, callers: list[str], out) -> dict:
    url = f"http://127.0.0.1:{port}"
    subprocess.run([PY, "-m", "bench.loadgen", "--server", url, "--public", url, "--token", AUTH_TOKEN,
                    "--to", ELDERLY_NUMBER, "--callers", ",".join(callers), "--concurrency", str(concurrency),
                    "--duration", str(duration), "--warmup", str(warmup), "--out", str(out)],
                   check=True, cwd=os.getcwd())
    return json.loads(out.read_text())


def _serve(target: str, workers: int, env: dict, log: Path) -> tuple[subprocess.Popen, int]:
    """Serve `target` under gunicorn with the production flags (`make run`'s), whichever app it is."""
    return procs.gunicorn(target, server_flags(workers, THREADS), workers, env, log)


def run(servers: Servers, residents: int, smoke: bool) -> dict:
    """Both apps under the same gunicorn flags; the same walk at 16 and 64 concurrent calls."""
    workers = max(2, os.cpu_count() or 2)
    duration, warmup = (3, 1) if smoke else (20, 4)
    levels = (4, 16) if smoke else (16, 64)
    # One call at a time as well (no target): each webhook's own time, without queueing for the 2 cores.
    runs = ((1, *levels) if not smoke else levels)
    callers = demo_callers() + [resident_phone(i) for i in range(0, residents, max(1, residents // 200))]
    env = servers.env()
    results: dict = {}
    for level in runs:
        for name, target in (("hotline", "app:app"), ("bare", "bench.bare_app:create_app()")):
            proc, port = _serve(target, workers, env, servers.workdir / f"gunicorn-{name}.log")
            try:
                results[(name, level)] = _load(port, level, duration if level > 1 else duration / 2, warmup,
                                               callers, servers.workdir / f"load-{name}-{level}.json")
            finally:
                procs.stop(proc)
            servers.flush_redis()  # the committed orders' offer jobs: no worker in this benchmark
    return _report(results, levels, runs, workers, duration, len(callers))


def _report(results: dict, levels, runs, workers: int, duration: float, callers: int) -> dict:
    lines = [f"gunicorn: {workers} workers × {THREADS} threads (gthread, `make run`'s flags) for both apps, "
             "load generator: one asyncio "
             f"process (aiohttp, keep-alive where the server allows), closed loop, no think time; "
             f"{duration:g} s measured per run after a warm-up; {callers} known callers, a fresh CallSid per call.", ""]
    rows, targets = [], []
    for level in runs:
        app, bare = results[("hotline", level)], results[("bare", level)]
        ratio = app["rps"] / bare["rps"] if bare["rps"] else 0.0
        for name, res in (("hotline", app), ("bare", bare)):
            lat = res["latency"]
            per = " / ".join(f"{r} {ms(pct(lat[r], 50))}/{ms(pct(lat[r], 95))}/{ms(pct(lat[r], 99))}" for r in ROUTES)
            allp99 = pct([x for r in ROUTES for x in lat[r]], 99)
            rows.append([level, name, f"{res['rps']:.0f}", f"{res['calls_per_s']:.1f}", per, ms(allp99),
                         res["errors"], f"{res['client_cpu'] * 100:.0f}%"])
        if level not in levels:
            continue
        targets.append((f"webhook throughput ≥ {TARGET_RATIO}× bare at {level} concurrent calls",
                        f"{ratio:.2f}×", ratio >= TARGET_RATIO))
        if level == levels[0]:
            app_p99, bare_p99 = (max(pct(res["latency"][r], 99) for r in ROUTES) for res in (app, bare))
            targets.append((f"p99 ≤ 25 ms per webhook at {level} concurrent calls (worst webhook)",
                            f"{ms(app_p99)} ms (bare: {ms(bare_p99)} ms)", app_p99 <= TARGET_P99))
    lines += table(["calls", "app", "req/s", "calls/s", "p50/p95/p99 ms per webhook", "p99 all ms", "errors",
                    "client CPU (of one core)"], rows)
    samples = {f"{k[0]}@{k[1]}": v["error_samples"] for k, v in results.items() if v["errors"]}
    if samples:
        lines += ["", f"error samples: {samples}"]
    lines += ["", "client CPU well under 100% of one core: the load generator is not the bottleneck "
              "(the server side is; with 2 cores the client still competes with the workers for CPU).",
              "", "The hotline's walk is one database statement per webhook "
              "(`hotline/webhooks/call_store.py`: the call's row "
              "with the caller looked up in it; the keys pressed so far; the order with its first event and the "
              "call's outcome), each its own transaction, plus the offer job's enqueue after the order. With "
              "closed-loop callers and no think time, latency at 16 calls is mostly queueing for the 2 cores: "
              "the 1-call row is each webhook's own time."]
    return {"title": "1. Webhook path", "lines": lines,
            "targets": [(t, v, verdict(ok)) for t, v, ok in targets]}
