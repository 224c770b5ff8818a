"""Integer request parameters: ids in console URLs and numbers in query strings, never a 500 when malformed.

str.isdigit() and `\\d` also take "²" and "٣" (which int() refuses or reads as 3), and int() takes "-1" and
any length, which overflows the database's integer columns: everything here accepts ASCII digits only,
of a bounded length, within bounds.
"""
from __future__ import annotations

import re
from datetime import date

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1  # ids are 32-bit signed integer columns on PostgreSQL
_DIGITS = re.compile(r"[0-9]{1,18}")  # 18 digits fit a 64-bit integer; more is never a valid number here
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Days far enough from the ends of the calendar that a week or a period around them can still be computed
# (date.max + 1 day is an OverflowError, not a ValueError).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


class BadParameter(BadRequest):
    """A query parameter that is not a whole number: 400 (the console shows its own "bad request" text)."""

    description = None


def json_bad_parameter(error: BadParameter) -> tuple[dict, int]:
    """The JSON API's answer to a malformed query parameter."""
    return {"error": "bad query parameter"}, 400


def parse_int(raw: str | None, minimum: int, maximum: int) -> int | None:
    """`raw` as a whole number in [minimum, maximum] written in ASCII digits, else None."""
    text = (raw or "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def small_int(raw: str | None, digits: int = 9) -> int | None:
    """A non-negative whole number written in ASCII digits (at most `digits` of them), else None.

    The webhooks' parser (Twilio's fields, ids in callback URLs): no stripping, no bounds but the length.
    str.isdigit() alone also accepts "²" or "٣", which int() then refuses: never a 500 on a bad URL.
    """
    raw = raw or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= digits else None


def parse_id(raw: str | None) -> int | None:
    """`raw` as a database id (1 to MAX_ID), else None: no record has it (form fields, `?edit=`)."""
    return parse_int(raw, 1, MAX_ID)


def parse_day(raw: str | None) -> date | None:
    """`raw` as a YYYY-MM-DD day between FIRST_DAY and LAST_DAY, else None."""
    text = (raw or "").strip()
    if not _DAY.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def int_arg(name: str, default: int, minimum: int, maximum: int) -> int:
    """`?name=` within [minimum, maximum] (a number outside is brought inside); `default` when absent or
    empty; 400 when it is not a whole number in ASCII digits."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not _DIGITS.fullmatch(raw):
        raise BadParameter()
    return min(max(int(raw), minimum), maximum)


def id_arg(name: str) -> int | None:
    """`?name=` as a database id; None when absent or beyond every id; 400 when not a whole number."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    if not _DIGITS.fullmatch(raw):
        raise BadParameter()
    return parse_id(raw)


class IdConverter(BaseConverter):
    """`<id:name>` in a route: a database id in ASCII digits (1 to MAX_ID); anything else is a 404."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        """The id, or no match (404) when it is 0 or beyond MAX_ID."""
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        """The id as URL text."""
        return str(int(value))


def refuse_nul() -> None:
    """Before every console and API view: 400 for a NUL character anywhere in the path, query or form.

    PostgreSQL refuses NUL in text, so one would otherwise reach the database and come back as its error
    (a 503 or 500). Webhooks are left alone: they replace NUL once their signature is checked (security)."""
    if request.path.startswith("/twilio/"):
        return
    values = [request.path] + [text for fields in (request.args, request.form)
                               for key, given in fields.lists() for text in (key, *given)]
    values += [str(v) for v in (request.view_args or {}).values()]
    if any("\x00" in value for value in values):
        raise BadRequest()


def register(app) -> None:
    """Make `<id:...>` available to the app's routes (before any blueprint using it is registered), and
    refuse NUL characters outside the webhooks."""
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_nul)
