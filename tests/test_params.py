"""hotline.params.small_int: the webhooks' parser for Twilio's fields and the ids in callback URLs."""
from __future__ import annotations

import pytest

from hotline.params import small_int
from hotline.webhooks import calls


@pytest.mark.parametrize("raw, expected", [("0", 0), ("42", 42), ("123456789", 123456789)])
def test_small_int_reads_ascii_digits(raw, expected):
    assert small_int(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "-1", "²", "٣", " 7", "1.5", "1234567890"])
def test_small_int_refuses_anything_else(raw):
    assert small_int(raw) is None


def test_small_int_honours_its_digit_limit():
    assert small_int("12", digits=2) == 12
    assert small_int("123", digits=2) is None


def test_calls_re_exports_the_same_parser():
    assert calls.small_int is small_int
