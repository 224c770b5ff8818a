"""Real concurrency and real processes for the reliability tests.

- `serve(app)`: the app on a threaded werkzeug HTTP server on 127.0.0.1, so parallel webhooks really run
  in parallel (one thread and one database session each), not one after another as in the test client.
- `http_tw(base)`: the signed-webhook client of tests/twilio_client.py, speaking HTTP to that server.
- `in_parallel(fn, args)`: call fn for every args tuple in its own thread, all released at once.
- `Workers`: `worker.py` as subprocesses (own process group, so the RQ scheduler it forks goes with it),
  configured through the environment exactly as in production; SIGTERM, SIGKILL, and all killed at teardown.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from rq import Worker
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Response

from dispatch.runtime import build_queue
from hotline.config import _ENV
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_BASE_URL
from tests.twilio_client import TwilioWebhookClient

ROOT = Path(__file__).resolve().parent.parent
# Nothing listens on port 1: a Redis or PostgreSQL "down" without touching a real server.
CLOSED_REDIS_URL = "redis://127.0.0.1:1/0"
CLOSED_DATABASE_URL = "postgresql://postgres@127.0.0.1:1/x"


class _Quiet(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        """No access log in the test output."""


@contextlib.contextmanager
def serve(app):
    """Serve `app` on a random port of 127.0.0.1 with a thread per request; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="hotline-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _Http:
    """Quacks like a Flask test client for TwilioWebhookClient, but posts over real HTTP."""

    def __init__(self, base: str):
        self.base = base

    def post(self, path, data=None, headers=None, base_url=None):
        answer = requests.post(self.base + path, data=data, headers=headers, timeout=60)
        return Response(answer.content, status=answer.status_code,
                        content_type=answer.headers.get("Content-Type", "text/plain"))


def http_tw(base: str, auth_token: str = AUTH_TOKEN, public_base_url: str = PUBLIC_BASE_URL) -> TwilioWebhookClient:
    """Signed webhooks, as Twilio sends them, to the server at `base` (signed for the app's token and public URL)."""
    return TwilioWebhookClient(_Http(base), auth_token=auth_token, public_base_url=public_base_url,
                               account_sid=ACCOUNT_SID)


def signed(app) -> TwilioWebhookClient:
    """Signed webhooks through the Flask test client of another app (e.g. one whose Redis is down)."""
    return TwilioWebhookClient(app.test_client(), auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL,
                               account_sid=ACCOUNT_SID)


def in_parallel(fn, calls: list[tuple], timeout: float = 60) -> list:
    """fn(*args) for every args in `calls`, each in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(args):
        barrier.wait(timeout)
        return fn(*args)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls, timeout=timeout))


def worker_env(settings) -> dict[str, str]:
    """The environment a production worker would have for these settings (nothing inherited that counts)."""
    env = {k: v for k, v in os.environ.items() if k not in _ENV and not k.startswith("HOTLINE_TEST_")}
    for var, (name, _convert) in _ENV.items():
        value = getattr(settings, name)
        if value not in (None, ""):
            env[var] = str(value)
    if not settings.satisfaction_quiet_hours:
        env["SATISFACTION_QUIET_HOURS"] = "off"  # an empty value would mean "the default" to the worker
    env["PYTHONUNBUFFERED"] = "1"
    return env


# Runs worker.py's main() after setting module constants (e.g. a 1 s reconcile interval): no env needed.
_BOOT = """
import importlib, sys
for name, value in {constants!r}.items():
    module, attr = name.rsplit(".", 1)
    setattr(importlib.import_module(module), attr, value)
import worker
sys.exit(worker.main([]))
"""


class WorkerProcess:
    """One `python worker.py` subprocess, leader of its own process group."""

    def __init__(self, settings, log_path: Path, constants: dict | None = None):
        args = [sys.executable, "-c", _BOOT.format(constants=constants)] if constants else \
            [sys.executable, "worker.py"]
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=worker_env(settings), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def terminate(self) -> None:
        """SIGTERM to the worker itself, as `docker stop` or systemd would send it."""
        os.kill(self.proc.pid, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the worker and everything it forked (its RQ scheduler): a machine or container dying."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)

    def wait(self, timeout: float) -> int:
        """The exit code, waiting at most `timeout` seconds."""
        return self.proc.wait(timeout)

    def output(self) -> str:
        """What the worker logged so far."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        self.kill()
        self._log.close()


class Workers:
    """Starts worker subprocesses for one test; every one of them is killed at teardown."""

    def __init__(self, settings, tmp_path: Path):
        self.settings, self.tmp_path = settings, tmp_path
        self.queue = build_queue(settings)
        self.started: list[WorkerProcess] = []

    def start(self, ready: bool = True, constants: dict | None = None, **overrides) -> WorkerProcess:
        """Start `worker.py` with the test settings (plus overrides); wait until it works the queue."""
        settings = self.settings.with_overrides(**overrides) if overrides else self.settings
        proc = WorkerProcess(settings, self.tmp_path / f"worker-{len(self.started)}.log", constants)
        self.started.append(proc)
        if ready:
            self.wait_until(lambda: self.registered() >= sum(p.proc.poll() is None for p in self.started),
                            15, proc, "the worker to register")
        return proc

    def registered(self) -> int:
        """How many live workers Redis knows for the test queue."""
        return Worker.count(connection=self.queue.connection, queue=self.queue)

    def wait_until(self, condition, timeout: float, proc: WorkerProcess | None = None, what: str = "") -> float:
        """Poll `condition` until true; returns the seconds waited; fails with the worker's log otherwise."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if condition():
                return time.monotonic() - start
            if proc is not None and proc.proc.poll() is not None:
                pytest.fail(f"worker exited ({proc.proc.returncode}) waiting for {what}:\n{proc.output()}")
            time.sleep(0.05)
        logs = "\n".join(f"--- worker {i} ---\n{p.output()[-4000:]}" for i, p in enumerate(self.started))
        pytest.fail(f"timed out after {timeout}s waiting for {what}\n{logs}")

    def close(self) -> None:
        for proc in self.started:
            proc.close()


@pytest.fixture
def workers(settings, tmp_path):
    """Worker subprocesses on the test database, Redis and fake Twilio; all SIGKILLed at teardown."""
    pool = Workers(settings, tmp_path)
    yield pool
    pool.close()
