"""Money on console pages: integer fen shown as "20.00元", and in Chinese capital numerals (大写) for signing."""
from __future__ import annotations

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals: 2000 -> "20.00元", -750 -> "-7.50元"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}元"


def _four(number: int) -> str:
    """0..9999 in capitals, with 零 for inner zeros ("壹仟零伍")."""
    text, zero = "", False
    for power in range(3, -1, -1):
        digit = number // 10**power % 10
        if digit == 0:
            zero = bool(text)
            continue
        text += ("零" if zero else "") + _DIGITS[digit] + _UNITS[power]
        zero = False
    return text


def _integer(number: int) -> str:
    groups = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    text, gap = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            gap = bool(text)
            continue
        # A zero before a group that does not fill its thousands (or after an empty group) is read: 壹万零伍.
        if text and (gap or group < 1000):
            text += "零"
        text += _four(group) + _GROUPS[index]
        gap = False
    return text


def capital(fen: int) -> str:
    """Fen as the amount written in capitals on a Chinese voucher: 123450 -> "壹仟贰佰叁拾肆元伍角整"."""
    if fen < 0:
        return "负" + capital(-fen)
    whole, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    text = (_integer(whole) + "元") if whole else ""
    if jiao == 0 and fen_digit == 0:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen_digit:
        text += _DIGITS[fen_digit] + "分"
    else:
        text += "整"
    return text
