"""Phone numbers: parsed once at the edge into E.164, masked whenever they are shown in logs."""
from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

DEFAULT_REGION = "CN"


class InvalidPhone(ValueError):
    """A string that is not a usable phone number."""


def normalise(raw: str, region: str = DEFAULT_REGION) -> str:
    """Parse a number in any usual form (`139 0476 1234`, `0476-8223344`, `+86…`) into E.164."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("empty phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    return _e164(text, region)


# Parsing costs ~20 µs, and every voice webhook parses its caller's number: the answers for the numbers seen
# lately are kept (valid ones only: a refusal is raised again each time, never cached). The cache holds what
# the request already carried, in this process's memory only, and is never written anywhere.
@lru_cache(maxsize=4096)
def _e164(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {mask_text(text)}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"not a valid phone number: {mask_text(text)}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalise(raw: str | None) -> str | None:
    """Like normalise() but None instead of an exception (for numbers that arrive from carriers)."""
    try:
        return normalise(raw or "")
    except InvalidPhone:
        return None


def is_mobile(e164: str) -> bool:
    """True when an SMS can reach the number (mobile, or a plan that may be either)."""
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except NumberParseException:
        return False
    return kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def mask(number: str | None) -> str:
    """`+8613904761234` -> `+86****1234`: a fixed head, four stars, the last four; the length stays hidden."""
    if not number:
        return "-"
    digits = number.lstrip("+")
    if len(digits) <= 6:
        return "+" + "*" * len(digits) if number.startswith("+") else "*" * len(digits)
    # Always four stars, however many digits they stand for; a 7-digit number keeps one head digit so at
    # least two digits are hidden.
    keep_head = min(2, len(digits) - 6)
    shown = digits[:keep_head] + "****" + digits[-4:]
    return ("+" if number.startswith("+") else "") + shown


# Runs of 7+ digits (optionally with + and separators) are treated as phone numbers in free text.
_NUMBERISH = re.compile(r"\+?\d[\d\- ]{5,}\d")


def mask_text(text: str) -> str:
    """Mask every phone-number-like run of digits inside free text."""
    return _NUMBERISH.sub(lambda m: mask(re.sub(r"[\- ]", "", m.group(0))), text or "")


def national(e164: str | None) -> str:
    """The number as dialled at home (`13904761234`, `04768223344`), short enough for an SMS."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return re.sub(r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
