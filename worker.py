"""The RQ worker: `python worker.py` runs jobs and scheduled timeouts; `--burst` runs what is due now and exits."""
from __future__ import annotations

import argparse
import logging
import signal
import threading

from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.exceptions import StopRequested

from dispatch import runtime
from dispatch.reconcile import housekeeping, reconcile, reconcile_forever
from hotline.config import load_settings

log = logging.getLogger("worker")
MAX_BACKOFF_SECONDS = 15
MAINTENANCE_SECONDS = 30


def run(settings, burst: bool = False, rt: runtime.Runtime | None = None) -> bool:
    """Reconcile the queue with the database, then work the hotline queue (with the scheduler).

    Unless bursting, a reconcile pass also runs every RECONCILE_INTERVAL_SECONDS in a thread, so work whose
    enqueue was lost, or whose scheduler died, waits at most that long; and a Redis outage (a restart, a
    failover) does not end the worker: it waits with back-off and starts working again. SIGTERM lets the
    current job finish and exits.
    """
    rt = rt or runtime.configure(settings)
    if burst:
        return _work(rt, burst=True)
    stop = threading.Event()
    threading.Thread(target=reconcile_forever, args=(rt, stop), name="reconcile", daemon=True).start()
    delay = 1.0
    try:
        while not _STOPPING.is_set():
            # RQ installs its own handlers while it works; between attempts a signal must still end the wait.
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: _STOPPING.set())
            try:
                return _work(rt, burst=False)
            except StopRequested:
                return True
            except (RedisError, OSError) as exc:
                if _STOPPING.is_set():
                    break
                log.error("Redis unavailable (%s): working again in %.0f s", type(exc).__name__, delay)
                _STOPPING.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        log.info("stopping (signal received while Redis was unavailable)")
        return True
    finally:
        stop.set()


# Set by SIGTERM/SIGINT: a worker waiting out a Redis outage must still stop when asked.
_STOPPING = threading.Event()


class _Worker(SimpleWorker):
    """SimpleWorker whose stop request survives a Redis outage.

    RQ's handler records the shutdown in Redis; with Redis down that raises a connection error from inside
    the signal handler, which would read as one more outage and keep the worker retrying after SIGTERM.
    """

    def request_stop(self, signum, frame):
        _STOPPING.set()
        try:
            super().request_stop(signum, frame)
        except (RedisError, OSError):
            raise StopRequested() from None


def _work(rt: runtime.Runtime, burst: bool) -> bool:
    housekeeping(rt)
    reconcile(rt)
    # SimpleWorker runs jobs in this process: no fork per job, and the database pool stays valid.
    # A short maintenance interval restarts a scheduler process that died with Redis within 30 s.
    worker = _Worker([rt.queue], connection=rt.queue.connection, maintenance_interval=MAINTENANCE_SECONDS)
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="run everything due now, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # twilio-python logs every request's URL and headers at INFO (eleven lines per SMS); our outbox logs each send.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    settings = load_settings()
    run(settings, burst=args.burst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
