"""Benchmark 2: order commit → offer SMS request at a steady rate, and worker capacity against RQ's no-op floor."""
from __future__ import annotations

import json
import random
import re
import time

from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry
from sqlalchemy import update

from dispatch.jobs import enqueue_offer
from models import Message, OfferAttempt, Order, make_engine, make_session_factory, new_code, set_status, utcnow

from . import procs, seed
from .env import ACCOUNT_SID, free_port, wait_http
from .noop import noop
from .stats import ms, pct, table, verdict

RATE = 20.0                 # orders per second
TARGET_P99, TARGET_RATIO = 0.5, 0.5
CATEGORIES = ("daily_care", "housekeeping", "companionship", "legal_aid")
CODE_RE = re.compile(r"(\d{6})")
NOOP_QUEUE = "bench-noop"
OFFER_PREFIXES = ("派单", "急!", "Order", "URGENT")


def _commit(session, resident_id: int, category: str) -> Order:
    """An order committed exactly as the voice webhook commits one (pending, its event), before the enqueue."""
    order = Order(code=new_code(session), category=category, resident_id=resident_id, unregistered=False,
                  call_sid="CA" + random.randbytes(16).hex(), created_at=utcnow())
    session.add(order)
    set_status(session, order, "pending", actor="caller", detail="IVR path 21")
    session.commit()
    return order


def _offers(log_path) -> dict[str, float]:
    """Arrival time of the first offer SMS per order code."""
    arrived: dict[str, float] = {}
    if not log_path.exists():
        return arrived
    for line in log_path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        match = CODE_RE.search(rec["body"] or "") if rec["kind"] == "sms" else None
        if match and rec["body"].startswith(OFFER_PREFIXES):
            arrived.setdefault(match.group(1), rec["t"])
    return arrived


def _offer_requests(log_path, skip: int = 0) -> tuple[int, int]:
    """(offer SMS requests after the first `skip` log lines, log lines in all)."""
    lines = log_path.read_text(encoding="utf-8").splitlines() if log_path.exists() else []
    count = sum(1 for line in lines[skip:] if (rec := json.loads(line))["kind"] == "sms"
                and (rec["body"] or "").startswith(OFFER_PREFIXES))
    return count, len(lines)


def _finished(queue: Queue) -> list[Job]:
    ids = FinishedJobRegistry(queue=queue).get_job_ids()
    return [j for j in Job.fetch_many(ids, connection=queue.connection) if j and j.started_at and j.ended_at]


def _span_rate(jobs: list[Job]) -> tuple[float, float, float]:
    """(jobs/s over first start → last end, mean seconds per job, span seconds)."""
    if not jobs:
        return 0.0, float("nan"), 0.0
    span = (max(j.ended_at for j in jobs) - min(j.started_at for j in jobs)).total_seconds()
    busy = sum((j.ended_at - j.started_at).total_seconds() for j in jobs) / len(jobs)
    return len(jobs) / span if span else 0.0, busy, span


def _wait_workers(queue: Queue, count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while len(Worker.all(queue=queue)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not register")
        time.sleep(0.2)


def _retire(factory) -> None:
    """Close the orders of a phase so no later worker's reconcile pass touches them."""
    with factory() as session:
        session.execute(update(Order).where(Order.status.in_(("pending", "offered"))).values(status="cancelled"))
        session.execute(update(OfferAttempt).where(OfferAttempt.status == "pending").values(status="superseded"))
        session.execute(update(Message).where(Message.status.in_(("queued", "sending"))).values(status="failed"))
        session.commit()


def run(servers, sizes: dict, smoke: bool) -> dict:
    """Steady phase with two workers, then burst capacity of one worker against a no-op burst, same run."""
    n_orders, workers = sizes["orders"], 2
    port = free_port()
    log_path = servers.workdir / "fake-twilio.jsonl"
    fake = procs.python(["-m", "bench.fake_twilio", "--port", str(port), "--log", str(log_path)],
                        servers.env(), servers.workdir / "fake-twilio.out")
    wait_http(port)
    env = servers.env(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_BASE_URL=f"http://127.0.0.1:{port}")
    redis = Redis.from_url(servers.redis_url)
    queue = Queue("bench", connection=redis)
    engine = make_engine(servers.database_url)
    factory = make_session_factory(engine)
    rng = random.Random(5)
    with factory() as session:
        residents = seed.resident_ids(session, 50_000)
    _retire(factory)  # orders left by earlier benchmarks (the webhook load) are not this benchmark's work
    try:
        servers.flush_redis()
        started = [procs.python(["worker.py"], env, servers.workdir / f"worker-{i}.log") for i in range(workers)]
        try:
            _wait_workers(queue, workers)
            commits: dict[str, float] = {}
            t0 = time.monotonic()
            with factory() as session:
                for i in range(n_orders):
                    delay = t0 + i / RATE - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    order = _commit(session, rng.choice(residents), rng.choice(CATEGORIES))
                    commits[order.code] = time.time()
                    enqueue_offer(queue, order.id)
            commit_window = time.monotonic() - t0
            deadline = time.monotonic() + 120
            while len(_offers(log_path)) < n_orders and time.monotonic() < deadline:
                time.sleep(0.5)
            arrived = _offers(log_path)
            steady_jobs = _finished(queue)
            steady_failed = FailedJobRegistry(queue=queue).count
        finally:
            for proc in started:
                procs.stop(proc, timeout=30)
        lat = [arrived[c] - t for c, t in commits.items() if c in arrived]
        steady_rate, steady_busy, steady_span = _span_rate(steady_jobs)
        _retire(factory)
        # Capacity, side by side: K orders through one burst worker, and as many no-op jobs through the very
        # same entry point (worker.py --burst: same worker class, logging, scheduler and start-up passes).
        k = 10 if smoke else 300
        servers.flush_redis()
        _, seen = _offer_requests(log_path)
        with factory() as session:
            for _ in range(k):
                enqueue_offer(queue, _commit(session, rng.choice(residents), rng.choice(CATEGORIES)).id)
        procs.python(["worker.py", "--burst"], env, servers.workdir / "worker-burst.log").wait(timeout=600)
        burst_jobs = _finished(queue)
        burst_rate, burst_busy, _ = _span_rate(burst_jobs)
        burst_failed = FailedJobRegistry(queue=queue).count
        burst_orders, _ = _offer_requests(log_path, seen)
        _retire(factory)  # the no-op worker's start-up reconcile pass must find nothing to enqueue
        noop_queue = Queue(NOOP_QUEUE, connection=redis)
        for _ in range(len(burst_jobs) or k):
            noop_queue.enqueue(noop)
        procs.python(["worker.py", "--burst"], dict(env, HOTLINE_QUEUE=NOOP_QUEUE),
                     servers.workdir / "worker-noop.log").wait(timeout=300)
        noop_jobs = [j for j in _finished(noop_queue) if j.func_name == f"{noop.__module__}.noop"]
        noop_rate, noop_busy, _ = _span_rate(noop_jobs)
        _retire(factory)
    finally:
        procs.stop(fake)
        engine.dispose()
        servers.flush_redis()
    ratio = burst_rate / noop_rate if noop_rate else 0.0
    p99 = pct(lat, 99)
    lines = [f"Steady phase: {n_orders:,} orders committed at {RATE:g}/s (took {commit_window:.1f} s; random known "
             f"residents, categories 1-4) with {workers} workers (`worker.py`, RQ SimpleWorker + scheduler) offering "
             "through a local Twilio-compatible endpoint (`bench/fake_twilio.py`: 201 + SID, arrival times logged); "
             f"{sizes['technicians']:,} technicians. Latency = offer SMS request arrival − order commit "
             "(the enqueue, the offer job: matching, its commit, then the send it makes itself, and the HTTP "
             "request).", ""]
    lines += table(["offers arrived", "p50 ms", "p95 ms", "p99 ms", "max ms", "jobs run", "failed jobs",
                    "jobs/s per worker (at 20 orders/s)", "mean ms per job"],
                   [[f"{len(lat)}/{n_orders}", ms(pct(lat, 50)), ms(pct(lat, 95)), ms(p99), ms(max(lat or [0])),
                     len(steady_jobs), steady_failed, f"{steady_rate / workers:.1f}", ms(steady_busy)]])
    per_order = len(burst_jobs) / burst_orders if burst_orders else float("nan")
    lines += ["", f"Capacity, side by side: {k} committed orders through one `worker.py --burst`, then as many "
              "no-op jobs through another `worker.py --burst` on its own queue (same SimpleWorker, logging, "
              "scheduler and start-up passes; only the job differs); rate = jobs / (first start → last end) from "
              "RQ's own job timestamps. One dispatch job is one whole order: matching, the offer's commit and its "
              "SMS request (`offer_order_job` sends what it committed), so dispatch jobs/s is also orders/s "
              f"({per_order:.2f} jobs per order offered here).", ""]
    lines += table(["worker", "jobs", "offers sent", "jobs/s", "mean ms per job", "failed"],
                   [["dispatch (offer_order_job)", len(burst_jobs), burst_orders, f"{burst_rate:.1f}",
                     ms(burst_busy), burst_failed],
                    ["no-op", len(noop_jobs), "", f"{noop_rate:.1f}", ms(noop_busy), 0]])
    return {"title": "2. Dispatch path", "lines": lines,
            "targets": [(f"commit → offer SMS p99 ≤ 500 ms at {RATE:g} orders/s", f"{ms(p99)} ms "
                         f"({len(lat)}/{n_orders} arrived)", verdict(p99 <= TARGET_P99 and len(lat) == n_orders)),
                        (f"dispatch jobs/s ≥ {TARGET_RATIO}× RQ no-op jobs/s (one worker)", f"{ratio:.2f}×",
                         verdict(ratio >= TARGET_RATIO))]}
