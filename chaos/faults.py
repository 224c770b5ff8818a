"""The faults, at fixed fractions of the drive: worker SIGKILLs (one while a send is in flight), a Redis crash
and restart while jobs are finishing (everything queued is lost), and the SMS provider's own (chaos.sides: Twilio
429/500 bursts and late answers; Alibaba's refusals, late answers and lost push answers); with Alibaba, a web
restart after the drive while its pushes go on. Each is timed, with the work pending then, for the recovery."""
from __future__ import annotations

import threading
import time

from .infra import AppProcesses, RedisServer

REDIS_DOWN_SECONDS = 4.0


class Faults:
    """Runs the fault plan in a thread; `events` is what happened when (wall-clock seconds)."""

    def __init__(self, side, redis: RedisServer, procs: AppProcesses, drive_seconds: float,
                 snapshot=lambda: {}, voice=None):
        self.side, self.redis, self.procs, self.drive, self.voice = side, redis, procs, drive_seconds, voice
        # every fake a send can be in flight at (Twilio's, and Alibaba's SMS and voice)
        self.fakes = side.fakes + [f for f in getattr(voice, "fakes", []) if f not in side.fakes]
        self._snapshot = snapshot  # the work pending in the database right now: the work a fault can hit
        self._seen: set = set()
        self.events: list[dict] = []
        self.errors: list[str] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def plan(self) -> list[tuple[float, str, object]]:
        return sorted([
            (0.12, "worker SIGKILL mid-send", self._kill_mid_send),
            (0.40, "Redis crash + restart", self._redis_restart),
            (0.55, "worker SIGKILL mid-send (2)", lambda: self._kill_mid_send(1)),
            *self.side.faults(self),
            *(self.voice.faults(self) if self.voice is not None else []),
        ], key=lambda step: step[0])

    def start(self, t0: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(t0,), name="faults", daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        self._stop.set()

    def _run(self, t0: float) -> None:
        for fraction, name, action in self.plan():
            if self._stop.wait(max(0.0, t0 + fraction * self.drive - time.time())):
                return
            self._do(name, action)

    def _do(self, name: str, action) -> None:
        at = time.time()
        try:
            detail = action() or {}
        except Exception as exc:  # noqa: BLE001 - a failed fault is reported, the run goes on
            self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            detail = {"error": str(exc)}
        self.events.append({"name": name, "at": detail.pop("at", at), **detail})

    def snapshot(self, kinds=("sending", "queued", "pending_orders")) -> dict:
        """Pending work not already pending at an earlier fault (that one's recovery counts it)."""
        try:
            found = {k: v for k, v in self._snapshot().items() if k in kinds}
        except Exception as exc:  # noqa: BLE001
            self.errors.append(f"snapshot: {type(exc).__name__}: {exc}")
            return {}
        fresh = {k: [i for i in ids if (k, i) not in self._seen] for k, ids in found.items()}
        self._seen |= {(k, i) for k, ids in found.items() for i in ids}
        return fresh

    def _kill_mid_send(self, index: int = 0) -> dict:
        """Slow the fake down so sends take 2.5 s, then kill a worker: it dies with a send in flight."""
        for fake in self.fakes:
            fake.slow_down(2.5, 2.0)
        deadline, busy = time.time() + 1.8, None
        while time.time() < deadline and busy is None:   # the worker whose send a fake is holding
            time.sleep(0.1)
            busy = self.procs.busy_worker([port for fake in self.fakes for port in fake.client_ports()])
        at = time.time()
        pid = self.procs.kill_worker(index if busy is None else busy)
        pending = self.snapshot(("sending", "pending_orders"))
        time.sleep(max(0.0, deadline + 0.2 + 2.5 - time.time()))  # the next fault once the slow sends are over
        return {"at": at, "pid": pid, "mid_send": busy is not None, **pending}

    def slow(self, fake, seconds: float, for_seconds: float, **how) -> dict:
        """The provider answers after the client's timeout (TWILIO_ / ALIYUN_TIMEOUT_SECONDS)."""
        fake.slow_down(seconds, for_seconds, **how)
        return {"slow": seconds, "for": for_seconds}

    def provider(self, fake, n: int, status: int, code: int) -> dict:
        """Twilio refuses the next `n` requests with this HTTP status and error code."""
        fake.fail_next(n, status, code)
        return {"n": n, "status": status}

    def refuse(self, fake, codes: list[str]) -> dict:
        """Alibaba refuses the next SendSms requests, one per code (HTTP 200, Code != OK): nothing sent."""
        fake.answer_next(*codes)
        return {"n": len(codes), "status": codes[0]}

    def after_drive(self, wait: float = 4.0) -> None:
        """With Alibaba: once the calls' webhooks (and their delayed replays) are over, a hard web restart while
        replies and receipts are still being pushed; the pushes that meet it must come again and count once."""
        # Only with Alibaba's SMS: the driver's Twilio SMS webhooks after the drive are not retried as pushes are.
        if self.side.name != "aliyun" or self._stop.wait(wait):
            return
        self._do("web restart (kill -9 gunicorn)", self._web_restart)

    def _web_restart(self) -> dict:
        at = time.time()
        pending = self.snapshot()
        down = self.procs.restart_web()
        return {"at": at, "web_down": down, **pending}

    def _redis_restart(self) -> dict:
        """kill -9 of Redis while sends are in flight (jobs finishing as it dies), back on the same port."""
        for fake in self.fakes:
            fake.slow_down(1.5, 1.0)
        time.sleep(0.5)
        at = time.time()
        self.redis.crash()
        pending = self.snapshot()
        time.sleep(REDIS_DOWN_SECONDS)
        self.redis.start()
        return {"at": at, "up": time.time(), **pending}
