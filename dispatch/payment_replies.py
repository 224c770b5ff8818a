"""What the resident paid, as a technician reports it after "完成": the method, the amount in fen, a reference.

`完成 123456 现金 20`, `数币 20.5 参考号AB12CD34`, `微信 十五块`, `支付宝 二十块五`, `免费`, `DONE 123456 CASH 20`.
Amounts are yuan: Arabic digits (at most two decimals) or Chinese numerals, with 元/块 and 角/毛/分 if wanted.
Anything else after the done word is a bad payment: the order is not completed and the technician is told so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# The method words by method (models.visits.PAYMENT_METHODS), matched longest first.
METHOD_WORDS = {
    "ecny": ("数字人民币", "数字货币", "数币", "数字", "E-CNY", "ECNY", "DCEP"),
    "wechat_alipay": ("微信支付", "微信", "支付宝", "WECHAT", "WEIXIN", "ALIPAY", "WX", "ZFB"),
    "cash": ("现金", "CASH"),
    "subsidy_only": ("免费", "全免", "补贴", "FREE", "SUBSIDY"),
}
_WORDS = sorted(((w, m) for m, words in METHOD_WORDS.items() for w in words), key=lambda wm: -len(wm[0]))
# A transaction reference, only for the electronic methods: `参考号XXXX`, `交易号 XXXX`, `REF XXXX`.
_REFERENCE = re.compile(r"(?:参考号|交易号|流水号|参考|REF(?:ERENCE)?)\s*[:#]?\s*"
                        r"([A-Z0-9][A-Z0-9-]{3,63})(?![A-Z0-9-])")
REFERENCE_METHODS = ("ecny", "wechat_alipay")
MAX_FEN = 1_000_000  # 10 000 yuan: more than any visit costs, so a longer number is a slip of the thumb
_YUAN = "(?:元|块|圆|YUAN|RMB)"
_DECIMAL = re.compile(rf"^(\d{{1,7}})(?:\.(\d{{1,2}}))?{_YUAN}?$")
_JIAO = re.compile(rf"^(\d{{1,7}}){_YUAN}(?:(\d)(?:角|毛)?)?(?:(\d)分)?$")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_RUN = re.compile("[零〇一二两三四五六七八九十百千万]+")


@dataclass(frozen=True)
class PaidReport:
    """A payment as reported: method in PAYMENT_METHODS, what the resident paid in fen, and a reference."""

    method: str
    paid_fen: int
    reference: str = ""


class BadPayment(ValueError):
    """The text after the done word is not a payment we can read."""


def split_reference(text: str) -> tuple[str, str]:
    """(the text without its transaction reference, the reference or ""): taken out first, so the digits of a
    reference are never read as an order code or an amount."""
    found = _REFERENCE.search(text)
    if found is None:
        return text, ""
    return text[:found.start()] + " " + text[found.end():], found.group(1)


def after_done(text: str, done_words: set[str], reference: str = "") -> PaidReport | None:
    """The payment after a leading done word (`完成 现金 20`); None when the text does not start with one."""
    text = text.strip(" ,.;:!?，。；：！？、-#")
    for word in sorted(done_words, key=len, reverse=True):
        if text.startswith(word) and text[len(word):].strip():
            return parse_payment(text[len(word):], reference)
    return None


def parse_payment(text: str, reference: str = "") -> PaidReport:
    """Read `现金 20` / `免费` (normalised, upper case, without the order code); BadPayment when unreadable."""
    compact = re.sub(r"[\s,，:：]+", "", text)
    word, method = next(((w, m) for w, m in _WORDS if compact.startswith(w)), ("", ""))
    if not method:
        raise BadPayment("no method")
    rest = compact[len(word):]
    if method == "subsidy_only":
        if rest and parse_amount(rest) != 0:
            raise BadPayment("an amount with 免费")
        paid = 0
    else:
        paid = parse_amount(rest)
        if paid == 0:
            raise BadPayment("nothing paid: say 免费")
    if reference and method not in REFERENCE_METHODS:
        raise BadPayment("a reference with cash")
    return PaidReport(method, paid, reference)


def parse_amount(text: str) -> int:
    """An amount of yuan as fen: `20`, `20.5`, `20元`, `二十`, `十五块`, `二十块五`, `两块五毛`, `¥20`."""
    text = re.sub(r"\s+", "", text or "").upper().lstrip("¥").removeprefix("RMB")
    if not text:
        raise BadPayment("no amount")
    arabic = _to_arabic(text.replace("点", "."))
    found = _DECIMAL.match(arabic)
    if found:
        yuan, decimals = found.group(1), (found.group(2) or "").ljust(2, "0")
        fen = int(yuan) * 100 + int(decimals)
    elif (found := _JIAO.match(arabic)) is not None:
        fen = int(found.group(1)) * 100 + int(found.group(2) or 0) * 10 + int(found.group(3) or 0)
    else:
        raise BadPayment("not an amount")
    if fen > MAX_FEN:
        raise BadPayment("too much")
    return fen


def _to_arabic(text: str) -> str:
    """Chinese numerals to Arabic digits: a run at the start as a whole number (二十 -> 20), later runs digit by
    digit (the 五 of 二十块五, of 二十点五, of 20块五)."""
    out, pos = [], 0
    for found in _CN_RUN.finditer(text):
        run = found.group(0)
        out += [text[pos:found.start()], str(_cn_number(run)) if found.start() == 0 else _cn_digits(run)]
        pos = found.end()
    out.append(text[pos:])
    return "".join(out)


def _cn_digits(run: str) -> str:
    if any(c not in _CN_DIGITS for c in run):
        raise BadPayment("a unit after the yuan")
    return "".join(str(_CN_DIGITS[c]) for c in run)


def _cn_number(run: str) -> int:
    """二十 -> 20, 十五 -> 15, 一百零五 -> 105, 一百五 -> 150 (said for 一百五十), 二零 -> 20."""
    if all(c in _CN_DIGITS for c in run):
        return int(_cn_digits(run))
    total = section = digit = last_unit = 0
    after_unit = False
    for c in run:
        if c in _CN_DIGITS:
            digit, after_unit = _CN_DIGITS[c], after_unit and c not in "零〇"
            continue
        if c == "万":
            total, section, last_unit = (total + section + digit) * 10_000, 0, 0
        else:
            unit = _CN_UNITS[c]
            if last_unit and unit >= last_unit:
                raise BadPayment("units out of order")
            section, last_unit = section + (digit or 1) * unit, unit
        digit, after_unit = 0, True
    if digit and after_unit and last_unit >= 100:
        digit *= last_unit // 10
    return total + section + digit
