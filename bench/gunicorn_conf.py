"""Gunicorn hooks for the benchmark: each worker says when its app is loaded (same config for every app)."""
import os
from pathlib import Path


def post_worker_init(worker):
    """Mark this worker ready in BENCH_READY_DIR."""
    ready = os.environ.get("BENCH_READY_DIR")
    if ready:
        Path(ready, str(os.getpid())).touch()
