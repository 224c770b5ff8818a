"""The RQ worker: `python worker.py` runs jobs and scheduled timeouts; `--burst` runs what is due now and exits."""
from __future__ import annotations

import argparse
import logging
import threading

from rq import SimpleWorker

from dispatch import runtime
from dispatch.reconcile import housekeeping, reconcile, reconcile_forever
from hotline.config import load_settings

log = logging.getLogger("worker")


def run(settings, burst: bool = False, rt: runtime.Runtime | None = None) -> bool:
    """Reconcile the queue with the database, then work the hotline queue (with the scheduler).

    Unless bursting, a reconcile pass also runs every RECONCILE_INTERVAL_SECONDS in a thread, so work whose
    enqueue was lost, or whose scheduler died, waits at most that long. SIGTERM lets the current job finish.
    """
    rt = rt or runtime.configure(settings)
    housekeeping(rt)
    reconcile(rt)
    # SimpleWorker runs jobs in this process: no fork per job, and the database pool stays valid.
    worker = SimpleWorker([rt.queue], connection=rt.queue.connection)
    stop = threading.Event()
    if not burst:
        threading.Thread(target=reconcile_forever, args=(rt, stop), name="reconcile", daemon=True).start()
    try:
        return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        stop.set()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="run everything due now, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    run(settings, burst=args.burst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
