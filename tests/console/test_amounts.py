"""Money on console pages: fen as yuan, and the amount in Chinese capitals (大写) as written on a voucher."""
from __future__ import annotations

import pytest

from hotline.console.amounts import capital, yuan


@pytest.mark.parametrize("fen, text", [(2000, "20.00元"), (5, "0.05元"), (0, "0.00元"), (-750, "-7.50元"),
                                       (123456, "1234.56元")])
def test_fen_show_as_yuan_with_two_decimals(fen, text):
    assert yuan(fen) == text


@pytest.mark.parametrize("fen, text", [
    (123450, "壹仟贰佰叁拾肆元伍角整"),
    (123456, "壹仟贰佰叁拾肆元伍角陆分"),
    (2000, "贰拾元整"),
    (0, "零元整"),
    (50, "伍角整"),
    (5, "伍分"),
    (100005, "壹仟元零伍分"),  # no jiao: a 零 before the fen
    (100100, "壹仟零壹元整"),  # inner zeros read once
    (1000000, "壹万元整"),
    (10050000, "壹拾万零伍佰元整"),  # a group that does not fill its thousands
    (12345678900, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元整"),
    (-750, "负柒元伍角整"),
])
def test_amounts_are_written_in_capitals(fen, text):
    assert capital(fen) == text
