"""The web server's gunicorn hooks (hotline.cli.serving), as `make run` and `make bench` serve with them."""
from __future__ import annotations

import gc
import subprocess
import sys
import urllib.request

from bench.env import free_port, wait_http
from hotline.cli import serving
from hotline.cli.launcher import server_flags
from hotline.config import PROJECT_ROOT


def test_the_hook_moves_what_the_worker_holds_into_the_permanent_generation():
    assert gc.get_freeze_count() == 0
    try:
        serving.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 10_000  # this test process's imports, like a worker's app
    finally:
        gc.unfreeze()


def test_a_worker_served_with_the_servers_flags_has_frozen_its_app():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "tests.cli.freeze_probe:app", "--bind",
                             f"127.0.0.1:{port}", *server_flags(1, 2)], cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as resp:
            assert int(resp.read()) > 0
    finally:
        proc.terminate()
        proc.wait(timeout=15)
