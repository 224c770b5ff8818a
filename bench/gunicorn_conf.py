"""Gunicorn hooks for the benchmark, the same config for every app served: the hotline's own hooks
(`hotline.cli.serving`, which `server_flags` names and this config replaces), then each worker says when its app
is loaded."""
import os
from pathlib import Path

from hotline.cli import serving


def post_worker_init(worker):
    """The hotline's hook (every app served gets it: the same flags), then mark this worker ready in
    BENCH_READY_DIR."""
    serving.post_worker_init(worker)
    ready = os.environ.get("BENCH_READY_DIR")
    if ready:
        Path(ready, str(os.getpid())).touch()
