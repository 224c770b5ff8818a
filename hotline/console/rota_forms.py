"""The console's shift form: the rota importer's rules (local times, tiers, shift length) for one shift."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.console.i18n import translate
from hotline.params import parse_id
from hotline.registry.csv_rows import CellError, parse_tier, parse_time
from hotline.registry.importer import MAX_SHIFT_DAYS
from models import LINES, Officer, RotaShift

LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def local_input(value, tz: ZoneInfo) -> str:
    """A stored UTC time as a datetime-local field shows it in the bureau's zone."""
    return value.astimezone(tz).strftime(LOCAL_INPUT) if value else ""


def check_shift(session: Session, data, tz: ZoneInfo, editing: RotaShift | None = None) -> tuple[dict, list[str]]:
    """Cleaned shift values and the messages refusing them (none = OK); nothing is written here."""
    errors: list[str] = []
    values: dict = {}

    def fail(key: str, **params) -> None:
        errors.append(translate(f"rota.err_{key}", **params))

    officer = None
    officer_id = parse_id(data.get("officer_id"))
    if officer_id is not None:
        officer = session.get(Officer, officer_id)
    if officer is None:
        fail("officer")
    elif not officer.active:
        fail("officer_inactive", name=officer.name)
    else:
        values["officer_id"] = officer.id
    line = (data.get("line") or "").strip()
    if line not in LINES:
        fail("line")
    values["line"] = line
    try:
        values["tier"] = parse_tier((data.get("tier") or "").strip())
    except CellError as exc:
        fail("tier", **exc.params)
    for name in ("starts_at", "ends_at"):
        raw = (data.get(name) or "").strip()
        try:
            values[name] = parse_time(raw, tz) if raw else None
        except CellError:
            values[name] = None
        if values[name] is None:
            fail("time", field=translate(f"rota.{name}"))
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts and ends and ends <= starts:
        fail("end_before_start")
    elif starts and ends and ends - starts > timedelta(days=MAX_SHIFT_DAYS):
        fail("too_long", days=MAX_SHIFT_DAYS)
    if not errors:
        same = session.scalar(select(RotaShift.id).where(
            RotaShift.officer_id == values["officer_id"], RotaShift.line == line,
            RotaShift.starts_at == starts, RotaShift.ends_at == ends,
            RotaShift.id != (editing.id if editing else -1)))
        if same is not None:
            fail("duplicate")
    return values, errors


def fields_of(shift: RotaShift | None, tz: ZoneInfo) -> dict:
    """A shift's values as the form shows them (blank for a new one)."""
    if shift is None:
        return {"officer_id": "", "line": LINES[0], "tier": "1", "starts_at": "", "ends_at": ""}
    return {"officer_id": str(shift.officer_id), "line": shift.line, "tier": str(shift.tier),
            "starts_at": local_input(shift.starts_at, tz), "ends_at": local_input(shift.ends_at, tz)}


def fields_from(data) -> dict:
    """The submitted values, shown again after an error."""
    return {key: (data.get(key) or "").strip() for key in ("officer_id", "line", "tier", "starts_at", "ends_at")}
