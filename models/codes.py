"""The 6-digit codes of orders and cases: unpredictable, uniform, and cheap to draw on a webhook.

Each code takes 20 bits from the operating system's CSPRNG (os.urandom, as `secrets` does), but the bytes are
read 4 kB at a time: one getrandom() call per ~1,300 codes instead of one per code. That call releases the GIL,
and on a busy gthread worker a request that gives the GIL up waits for it again behind the other threads (the
profile of the confirm webhook showed ~2% of its time there). A 20-bit draw of 1,000,000 or more is thrown away,
so every code is equally likely. A forked child (gunicorn's workers, RQ's work horses) never reuses its parent's
bytes: the pool belongs to the process that read it.
"""
from __future__ import annotations

import os
import threading

CODES = 1_000_000          # 000000 .. 999999
POOL_BYTES = 4096          # bytes read from the OS per refill
_BITS = 20                 # 2**20 = 1,048,576 >= CODES: 4.6% of draws are thrown away
_lock = threading.Lock()
_pool = bytearray()
_pool_pid = 0


def _draw20() -> int:
    """20 random bits from the pool (refilled from os.urandom when empty or inherited over a fork)."""
    global _pool_pid
    with _lock:
        if len(_pool) < 3 or _pool_pid != os.getpid():
            _pool[:] = os.urandom(POOL_BYTES)
            _pool_pid = os.getpid()
        chunk = bytes(_pool[-3:])
        del _pool[-3:]
    return int.from_bytes(chunk, "big") & ((1 << _BITS) - 1)


def draw_code() -> str:
    """A random 6-digit code (orders and cases); whether it is free is the caller's query or unique index."""
    while True:
        value = _draw20()
        if value < CODES:
            return f"{value:06d}"
