"""The RQ worker: `python worker.py` runs jobs and scheduled timeouts; `--burst` runs what is due now and exits."""
from __future__ import annotations

import argparse
import logging

from rq import SimpleWorker

from dispatch import runtime
from dispatch.reconcile import reconcile
from hotline.config import load_settings

log = logging.getLogger("worker")


def run(settings, burst: bool = False, rt: runtime.Runtime | None = None) -> bool:
    """Reconcile the queue with the database, then work the hotline queue (with the scheduler)."""
    rt = rt or runtime.configure(settings)
    reconcile(rt)
    # SimpleWorker runs jobs in this process: no fork per job, and the database pool stays valid.
    worker = SimpleWorker([rt.queue], connection=rt.queue.connection)
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


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
