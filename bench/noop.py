"""RQ's own floor: a no-op job and a burst SimpleWorker configured like worker.py's."""
from __future__ import annotations

import argparse

from redis import Redis
from rq import Queue, SimpleWorker


def noop() -> None:
    """Do nothing."""


def main() -> None:
    """python -m bench.noop --redis URL --queue NAME: work the queue in burst mode, as worker.py's SimpleWorker."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", required=True)
    parser.add_argument("--queue", required=True)
    args = parser.parse_args()
    connection = Redis.from_url(args.redis)
    queue = Queue(args.queue, connection=connection)
    worker = SimpleWorker([queue], connection=connection, maintenance_interval=30)
    worker.work(burst=True, with_scheduler=True, logging_level="WARNING")


if __name__ == "__main__":
    main()
