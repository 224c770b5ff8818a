"""The reporting period (whole local days in the bureau's time zone) and the statistics over durations."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hotline.params import parse_day

# A longer range would make a month chart too wide to read; the bureau reports by year at most.
MAX_MONTHS = 60


@dataclass(frozen=True)
class Period:
    """The local days `first`..`last` (both included) in time zone `tz`."""

    first: date
    last: date
    tz: ZoneInfo

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants [start, end): local midnight of `first` to local midnight after `last`."""
        start = datetime.combine(self.first, time(), self.tz)
        end = datetime.combine(self.last + timedelta(days=1), time(), self.tz)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def months(self) -> list[str]:
        """Every local month the period touches, "YYYY-MM", oldest first (empty months included)."""
        year, month = self.first.year, self.first.month
        months = []
        while (year, month) <= (self.last.year, self.last.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    def month_of(self, moment: datetime) -> str:
        """The local month, "YYYY-MM", an instant belongs to."""
        return moment.astimezone(self.tz).strftime("%Y-%m")

    @property
    def label(self) -> str:
        """The range as YYYY-MM-DD_YYYY-MM-DD, for file names."""
        return f"{self.first.isoformat()}_{self.last.isoformat()}"


def default_period(today: date, tz: ZoneInfo) -> Period:
    """The last 12 months: from the first day of the month eleven months ago to today."""
    months_back = today.year * 12 + today.month - 1 - 11
    return Period(date(months_back // 12, months_back % 12 + 1, 1), today, tz)


def parse_period(first_text: str | None, last_text: str | None, today: date,
                 tz: ZoneInfo) -> tuple[Period, str | None]:
    """The period asked for as "YYYY-MM-DD" texts; an empty text takes the default's day.

    Bad input gives the default period and an error name: "bad_date", "reversed" or "too_long".
    """
    default = default_period(today, tz)
    try:
        first = _day(first_text) or default.first
        last = _day(last_text) or default.last
    except ValueError:
        return default, "bad_date"
    if first > last:
        return default, "reversed"
    period = Period(first, last, tz)
    if len(period.months()) > MAX_MONTHS:
        return default, "too_long"
    return period, None


def _day(text: str | None) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    day = parse_day(text)  # YYYY-MM-DD only, and not so near the calendar's ends that a month overflows
    if day is None:
        raise ValueError(text)
    return day


def percentile(values: list[float], fraction: float) -> float | None:
    """The `fraction` quantile (0..1) by linear interpolation between closest ranks; None when empty.

    The same rule as PostgreSQL's percentile_cont, numpy's default and Excel's PERCENTILE.INC:
    position h = (n - 1) * fraction in the sorted values, interpolated between floor(h) and ceil(h).
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


@dataclass(frozen=True)
class DurationStats:
    """How many durations (minutes) were measured, their median and 90th percentile."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, minutes: list[float]) -> DurationStats:
        """The statistics of these durations (None figures when there are none)."""
        return cls(len(minutes), percentile(minutes, 0.5), percentile(minutes, 0.9))


def minutes_between(start: datetime, end: datetime | None) -> float | None:
    """Minutes from `start` to `end`, None when `end` never happened."""
    return None if end is None else (end - start).total_seconds() / 60
