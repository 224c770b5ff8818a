"""Times on console pages: stored in UTC, shown in the bureau's zone."""
from __future__ import annotations

from datetime import datetime

from hotline import db


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`value` in the bureau's time zone, or "-" when there is none."""
    if value is None:
        return "-"
    return value.astimezone(db.settings().tz).strftime(fmt)


def minutes_between(start: datetime | None, end: datetime | None) -> float | None:
    """Whole-ish minutes from `start` to `end` (one decimal), None if either is missing."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)
