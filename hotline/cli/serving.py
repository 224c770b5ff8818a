"""Gunicorn's hooks for the hotline's web server: `--config python:hotline.cli.serving` (in `server_flags`).

A worker imports the whole app (Flask, SQLAlchemy's mapped models, twilio, the phone-number metadata): some
150,000 objects the garbage collector tracks and that live as long as the worker. Every full collection walks
all of them again, tens of milliseconds with the GIL held, however little a webhook left behind. Once the app
is loaded they move to the permanent generation (`gc.freeze`), so collections walk only what requests made.
Nothing is ever freed by this: frozen objects are the ones the worker keeps anyway.
"""
from __future__ import annotations

import gc


def post_worker_init(worker) -> None:
    """Gunicorn calls this once the worker has loaded the app: freeze what the app holds."""
    gc.collect()  # what the import left as garbage is freed now, not kept for the worker's life
    gc.freeze()
