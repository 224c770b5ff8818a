"""RQ's own floor: a job that does nothing, worked by `worker.py --burst` on its own queue like a dispatch job."""
from __future__ import annotations


def noop() -> None:
    """Do nothing."""
