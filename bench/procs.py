"""Starting and stopping the servers under test (gunicorn, workers, the fake Twilio) as child processes."""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from hotline.config import PROJECT_ROOT

from .env import PY, free_port, wait_http


def gunicorn(target: str, flags: list[str], workers: int, env: dict, log: Path) -> tuple[subprocess.Popen, int]:
    """Serve the WSGI `target` under gunicorn with `flags` (which set `workers`) on a free loopback port."""
    port = free_port()
    args = [PY, "-m", "gunicorn", target, "--bind", f"127.0.0.1:{port}", *flags, "--backlog", "2048",
            "--log-level", "warning", "--config", "python:bench.gunicorn_conf"]
    ready = Path(tempfile.mkdtemp(prefix="ready-", dir=log.parent))
    args += ["--worker-tmp-dir", str(ready)]  # each loaded worker leaves a file there (bench.gunicorn_conf)
    env = dict(env, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    proc = subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    wait_http(port, timeout=60)
    deadline = time.monotonic() + 120
    while len(list(ready.glob("ready-*"))) < workers:  # every worker has loaded the app
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn {target} did not start its {workers} workers (see {log})")
        time.sleep(0.1)
    return proc, port


def stop(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    """SIGTERM the process group we started (warm shutdown), SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def python(module_args: list[str], env: dict, log: Path, prefix: list[str] | None = None) -> subprocess.Popen:
    """A Python child process in the project root (its own process group)."""
    return subprocess.Popen((prefix or []) + [PY] + module_args, cwd=PROJECT_ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
