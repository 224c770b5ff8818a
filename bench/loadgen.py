"""The load generator: concurrent simulated calls walking the elderly IVR with signed webhooks (asyncio, keep-alive)."""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import aiohttp

from hotline.softphone import twilio_wire as wire

ROUTES = ("greeting", "menu", "confirm")
KEYS = {"menu": "2", "confirm": "1"}


def next_path(body: str) -> str | None:
    """The path+query Twilio requests next: the Gather action (None after a hang-up)."""
    root = ET.fromstring(body)
    for verb in root:
        if verb.tag == "Gather":
            parts = urlsplit(verb.get("action"))
            return parts.path + (f"?{parts.query}" if parts.query else "")
        if verb.tag == "Hangup":
            return None
    return None


class Walk:
    """Shared counters of one load run."""

    def __init__(self, args):
        self.args = args
        self.latency: dict[str, list[float]] = {r: [] for r in ROUTES}
        self.errors: list[str] = []
        self.calls = 0
        self.measuring = False

    async def post(self, http, path: str, params: dict) -> str:
        headers = wire.signed_headers(self.args.token, self.args.public, path, params)
        async with http.post(self.args.server + path, data=params, headers=headers) as resp:
            body = await resp.text()
            if resp.status != 200:
                raise RuntimeError(f"{path.split('?')[0]} answered {resp.status}")
            return body

    async def call(self, http, rng: random.Random) -> None:
        sid = wire.new_sid("CA")
        caller = rng.choice(self.args.callers)
        base = wire.call_params(sid, wire.placeholder_account(), caller, self.args.to, "ringing")
        path, route = wire.VOICE_PATH, "greeting"
        while path is not None and route is not None:
            params = dict(base)
            if route != "greeting":
                params.update(CallStatus="in-progress", Digits=KEYS[route])
            started = time.perf_counter()
            body = await self.post(http, path, params)
            elapsed = time.perf_counter() - started
            if self.measuring:
                self.latency[route].append(elapsed)
            path = next_path(body)
            if route == "confirm" and path is not None:
                raise RuntimeError("the walk did not end after confirming")
            route = {"greeting": "menu", "menu": "confirm"}.get(route)
        if self.measuring:
            self.calls += 1

    async def caller_loop(self, http, seed: int, stop_at: float) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop_at:
            try:
                await self.call(http, rng)
            except Exception as exc:  # counted, not fatal: a 5xx is a result
                if self.measuring:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                await asyncio.sleep(0.01)


async def run(args) -> dict:
    """Walk calls for warmup + duration seconds; measure during `duration` only."""
    walk = Walk(args)
    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        start = time.monotonic()
        stop_at = start + args.warmup + args.duration
        tasks = [asyncio.create_task(walk.caller_loop(http, i, stop_at)) for i in range(args.concurrency)]
        await asyncio.sleep(args.warmup)
        walk.measuring = True
        cpu0, t0, wall0 = cpu_seconds(), time.monotonic(), time.time()
        await asyncio.sleep(args.duration)
        walk.measuring = False
        cpu1, t1, wall1 = cpu_seconds(), time.monotonic(), time.time()
        await asyncio.gather(*tasks)
    window = t1 - t0
    total = sum(len(v) for v in walk.latency.values())
    return {"concurrency": args.concurrency, "window_s": window, "requests": total, "rps": total / window,
            "calls": walk.calls, "calls_per_s": walk.calls / window, "errors": len(walk.errors),
            "error_samples": sorted(set(walk.errors))[:3], "client_cpu": (cpu1 - cpu0) / window,
            "latency": walk.latency, "window_at": [wall0, wall1]}


def cpu_seconds() -> float:
    """CPU time (user + system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def common_parser() -> argparse.ArgumentParser:
    """The options every load run takes: where to send, how to sign, who calls, how long, where to write."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--public", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--callers", required=True, type=lambda s: s.split(","))
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--out", required=True)
    return parser


def main() -> None:
    """Command line: python -m bench.loadgen --server URL --public URL --token T --callers a,b ... --out FILE."""
    parser = common_parser()
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
