"""Paced callers (open loop): new calls start at a fixed rate, whatever earlier ones are doing, and each caller
pauses 2-6 s between webhooks as a person listening to the prompt does.

Latency is measured from each webhook's *scheduled* send time, not from when the load generator got round to
sending it (coordinated omission): a call due at t whose request leaves late because the client or the server
fell behind is charged the delay. The call's first webhook is due at its start time; each later one at the
previous answer's arrival plus the caller's pause. How late sends left (the schedule lag) is reported apart, so
a load generator that cannot keep up shows in the table instead of hiding in the latencies.

`python -m bench.paced --rate R ...` (the options of `bench.loadgen`, plus --rate and --seed).
"""
from __future__ import annotations

import asyncio
import json
import random
import time
from typing import NamedTuple

import aiohttp

from hotline.softphone import twilio_wire as wire

from .loadgen import KEYS, ROUTES, Walk, common_parser, cpu_seconds, next_path

PAUSE_S = (2.0, 6.0)  # between a caller's webhooks: hearing the prompt, pressing the key
LEAD_S = 0.2  # the first call starts this long after the run's clock starts (the tasks are built by then)
NEXT = {"greeting": "menu", "menu": "confirm"}


class PacedCall(NamedTuple):
    """One scheduled call: when it starts (seconds from the run's start), the caller's pauses, who calls."""

    start: float
    pauses: tuple[float, ...]
    caller: str


class Sample(NamedTuple):
    """One webhook sent: its route, when it was due, how late it left, how long until the answer (from due)."""

    route: str
    due: float
    lag: float
    latency: float


def schedule(rate: float, duration: float, seed: int, callers: list[str]) -> list[PacedCall]:
    """Calls starting every 1/rate s over `duration` s (i/rate for call i), each with seeded uniform 2-6 s pauses."""
    rng = random.Random(seed)
    count = int(round(rate * duration))
    return [PacedCall(i / rate, tuple(rng.uniform(*PAUSE_S) for _ in range(len(ROUTES) - 1)), rng.choice(callers))
            for i in range(count)]


class Paced(Walk):
    """One open-loop run: every call its own task; samples kept for webhooks due inside the window."""

    def __init__(self, args, origin: float, window: tuple[float, float]):
        super().__init__(args)
        self.origin, self.window = origin, window
        self.samples: list[Sample] = []
        self.started = 0

    async def paced_call(self, http, call: PacedCall, stop_at: float) -> None:
        """Walk one call on its schedule; a webhook due after `stop_at` is not sent (the call just ends)."""
        sid = wire.new_sid("CA")
        base = wire.call_params(sid, wire.placeholder_account(), call.caller, self.args.to, "ringing")
        path: str | None = wire.VOICE_PATH
        route: str | None = "greeting"
        due = self.origin + call.start
        step = 0
        try:
            while path is not None and route is not None:
                if due > stop_at:
                    return
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                params = dict(base)
                if route != "greeting":
                    params.update(CallStatus="in-progress", Digits=KEYS[route])
                else:
                    self.started += 1
                lag = time.monotonic() - due
                body = await self.post(http, path, params)
                answered = time.monotonic()
                if self.window[0] <= due - self.origin < self.window[1]:
                    self.samples.append(Sample(route, due - self.origin, lag, answered - due))
                path = next_path(body)
                route = NEXT.get(route)
                if route is not None:
                    due = answered + call.pauses[step]
                    step += 1
        except Exception as exc:  # counted, not fatal: a 5xx or a timeout is a result
            if self.window[0] <= due - self.origin < self.window[1]:
                self.errors.append(f"{type(exc).__name__}: {exc}"[:200])


async def run(args) -> dict:
    """Start calls at args.rate/s for warmup + duration s; measure the webhooks due in the last `duration` s."""
    calls = schedule(args.rate, args.warmup + args.duration, args.seed, args.callers)
    # No client-side cap on connections (an open loop must not queue in the client); idle keep-alive connections
    # are closed by the client before gunicorn's 2 s keep-alive would close them under a request in flight.
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=1.5)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        origin = time.monotonic() + LEAD_S
        stop_at = origin + args.warmup + args.duration
        walk = Paced(args, origin, (args.warmup, args.warmup + args.duration))
        tasks = [asyncio.create_task(walk.paced_call(http, call, stop_at)) for call in calls]
        await asyncio.sleep(max(0.0, origin + args.warmup - time.monotonic()))
        cpu0, t0 = cpu_seconds(), time.monotonic()
        await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
        cpu1, t1 = cpu_seconds(), time.monotonic()
        await asyncio.gather(*tasks)
    window = t1 - t0
    latency: dict[str, list[float]] = {r: [] for r in ROUTES}
    for sample in walk.samples:
        latency[sample.route].append(sample.latency)
    return {"rate": args.rate, "window_s": window, "requests": len(walk.samples),
            "rps": len(walk.samples) / window, "calls_started": walk.started, "calls_scheduled": len(calls),
            "errors": len(walk.errors), "error_samples": sorted(set(walk.errors))[:3],
            "client_cpu": (cpu1 - cpu0) / window, "latency": latency, "lag": [s.lag for s in walk.samples]}


def main() -> None:
    """Command line: python -m bench.paced --rate R --server URL --public URL --token T --callers a,b --out FILE."""
    parser = common_parser()
    parser.add_argument("--rate", type=float, required=True, help="new calls per second")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
