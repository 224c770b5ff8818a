"""Order and case codes: six digits, every code equally likely, one OS read per many codes, none shared over fork."""
from __future__ import annotations

import os
import threading
from collections import Counter

import pytest

from models import codes
from models.codes import draw_code


def test_a_code_is_six_digits():
    for _ in range(2000):
        code = draw_code()
        assert len(code) == 6 and code.isdigit()


def test_draws_above_the_last_code_are_thrown_away_not_folded(monkeypatch):
    # 20 bits reach 1,048,575: a draw of 1,000,000 or more must be redrawn, never wrapped onto low codes
    draws = iter([1_048_575, 1_000_000, 999_999, 0])
    monkeypatch.setattr(codes, "_draw20", lambda: next(draws))
    assert draw_code() == "999999"
    assert draw_code() == "000000"


def test_codes_are_uniform_over_their_leading_digit():
    counts = Counter(draw_code()[0] for _ in range(20_000))
    assert set(counts) == set("0123456789")
    # 2,000 expected per digit; a fold of the 48,576 values above 999,999 onto 0xxxxx would show here
    assert all(1_700 < n < 2_300 for n in counts.values()), counts


def test_the_os_is_read_once_per_pool_not_once_per_code(monkeypatch):
    reads = []
    real = os.urandom

    def counting(n):
        reads.append(n)
        return real(n)

    monkeypatch.setattr(codes.os, "urandom", counting)
    monkeypatch.setattr(codes, "_pool", bytearray())
    for _ in range(1000):
        draw_code()
    assert reads and all(n == codes.POOL_BYTES for n in reads)
    assert len(reads) <= 2  # 1000 codes need ~3,150 bytes


def test_threads_drawing_at_once_never_take_the_same_bytes(monkeypatch):
    # a pool of distinct 3-byte values: any double take would show as a repeated value
    values = list(range(1, 20_001))
    pool = bytearray(b"".join(v.to_bytes(3, "big") for v in values))
    monkeypatch.setattr(codes, "_pool", pool)
    monkeypatch.setattr(codes, "_pool_pid", os.getpid())
    taken: list[int] = []
    lock = threading.Lock()

    def draw():
        mine = [codes._draw20() for _ in range(2_000)]
        with lock:
            taken.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 16_000 and len(set(taken)) == 16_000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_repeat_its_parents_codes():
    draw_code()  # the parent's pool is filled before the fork, as a preloaded gunicorn master's may be
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next codes, to the parent
        try:
            os.write(write, ",".join(draw_code() for _ in range(20)).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 4096).decode().split(",")
    os.close(read)
    parent = [draw_code() for _ in range(20)]
    assert len(child) == 20
    assert child != parent  # same bytes would give the same 20 codes
