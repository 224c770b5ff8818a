"""The rota as the console shows it: one local week per line, tiers as rows, who is on now, and the holes in cover.

Days are the bureau's local days (settings.tz); shifts are stored in UTC, so every boundary is a local
midnight converted to UTC, which also keeps a week right across a daylight-saving change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import LINES, Officer, RotaShift, on_duty_tiers

MIN_GAP = timedelta(minutes=1)  # shorter holes are rounding in how times were typed, not missing cover


@dataclass(frozen=True)
class Week:
    """Seven local days from a Monday, with the eight UTC instants that bound them."""

    monday: date
    bounds: tuple[datetime, ...]

    @property
    def days(self) -> list[date]:
        """The seven local dates."""
        return [self.monday + timedelta(days=i) for i in range(7)]

    @property
    def start(self) -> datetime:
        """Local Monday 00:00, in UTC."""
        return self.bounds[0]

    @property
    def end(self) -> datetime:
        """The next local Monday 00:00, in UTC."""
        return self.bounds[-1]


def week_of(day: date, tz: ZoneInfo) -> Week:
    """The local week (Monday to Sunday) that contains `day`."""
    monday = day - timedelta(days=day.weekday())
    bounds = tuple(datetime.combine(monday + timedelta(days=i), time(0), tzinfo=tz).astimezone(timezone.utc)
                   for i in range(8))
    return Week(monday, bounds)


@dataclass(frozen=True)
class Block:
    """The part of one shift that falls on one local day, with local clock times for display."""

    shift: RotaShift
    starts: str
    ends: str
    from_before: bool   # the shift began on an earlier day
    runs_on: bool       # the shift goes on into the next day


@dataclass
class LineWeek:
    """One line's week: tiers (rows) by day (columns) of blocks, its shifts, and the uncovered spans."""

    line: str
    tiers: dict[int, list[list[Block]]] = field(default_factory=dict)
    shifts: list[RotaShift] = field(default_factory=list)
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)


def shifts_in(session: Session, line: str, start: datetime, end: datetime) -> list[RotaShift]:
    """Shifts of `line` that overlap [start, end), earliest first, officers loaded."""
    return list(session.scalars(
        select(RotaShift).options(joinedload(RotaShift.officer))
        .where(RotaShift.line == line, RotaShift.starts_at < end, RotaShift.ends_at > start)
        .order_by(RotaShift.starts_at, RotaShift.tier, RotaShift.id)))


def uncovered(shifts: list[RotaShift], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Spans of [start, end) when no active officer is on any of `shifts` (inactive officers are not rung)."""
    spans = sorted((max(s.starts_at, start), min(s.ends_at, end)) for s in shifts if s.officer.active)
    gaps, cursor = [], start
    for begin, finish in spans:
        if begin - cursor >= MIN_GAP:
            gaps.append((cursor, begin))
        cursor = max(cursor, finish)
    if end - cursor >= MIN_GAP:
        gaps.append((cursor, end))
    return gaps


def _blocks(shift: RotaShift, week: Week, tz: ZoneInfo) -> list[tuple[int, Block]]:
    """The day columns a shift appears in, clipped to each day."""
    found = []
    for index in range(7):
        day_start, day_end = week.bounds[index], week.bounds[index + 1]
        if shift.starts_at >= day_end or shift.ends_at <= day_start:
            continue
        begin, finish = max(shift.starts_at, day_start), min(shift.ends_at, day_end)
        found.append((index, Block(shift, begin.astimezone(tz).strftime("%H:%M"),
                                   "24:00" if finish == day_end else finish.astimezone(tz).strftime("%H:%M"),
                                   shift.starts_at < day_start, shift.ends_at > day_end)))
    return found


def line_week(session: Session, line: str, week: Week, tz: ZoneInfo) -> LineWeek:
    """Everything the week view shows for one line."""
    result = LineWeek(line, shifts=shifts_in(session, line, week.start, week.end))
    for shift in result.shifts:
        row = result.tiers.setdefault(shift.tier, [[] for _ in range(7)])
        for index, block in _blocks(shift, week, tz):
            row[index].append(block)
    result.tiers = dict(sorted(result.tiers.items()))
    result.gaps = uncovered(result.shifts, week.start, week.end)
    return result


def on_duty_now(session: Session, now: datetime) -> dict[str, list[tuple[int, list[Officer]]]]:
    """Per line, the tiers rung right now with their tier numbers (models.on_duty_tiers decides who)."""
    result = {}
    for line in LINES:
        numbered = []
        for officers in on_duty_tiers(session, line, now):
            # on_duty_tiers puts each officer in their lowest tier on duty, so the first one names the group.
            tier = session.scalar(select(RotaShift.tier).where(
                RotaShift.officer_id == officers[0].id, RotaShift.line == line,
                RotaShift.starts_at <= now, RotaShift.ends_at > now).order_by(RotaShift.tier).limit(1))
            numbered.append((tier, officers))
        result[line] = numbered
    return result

