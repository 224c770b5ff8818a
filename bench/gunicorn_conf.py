"""Gunicorn hooks for the benchmark, the same config for every app served: the hotline's own hooks
(`hotline.cli.serving`, which `server_flags` names and this config replaces), then each worker says when its app
is loaded, by a file in its gunicorn `--worker-tmp-dir` (a directory of its own per server: `bench.procs`)."""
import os
from pathlib import Path

from hotline.cli import serving


def post_worker_init(worker):
    """The hotline's hook (every app served gets it: the same flags), then mark this worker ready in the
    server's worker temporary directory."""
    serving.post_worker_init(worker)
    if worker.cfg.worker_tmp_dir:
        Path(worker.cfg.worker_tmp_dir, f"ready-{os.getpid()}").touch()
