"""Registry import from CSV files exported from Excel: residents, technicians, officers and the rota.

Files are comma-separated, in UTF-8 (with or without BOM) or GB18030. Header names are
case-insensitive and may be English or Chinese; unknown columns (notes, row numbers) are ignored:

  residents    name 姓名 | phone 电话 | address 地址 | community 社区 | lat 纬度 | lng 经度 |
               birth_date 出生日期 | categories 类别 | emergency_contact 紧急联系人
  technicians  name 姓名 | phone 电话 | skills 技能 | community 社区 | lat 纬度 | lng 经度 | active 在岗
  officers     name 姓名 | phone 电话 | role 角色
  rota         officer_phone 值班人员电话 (also 值班员电话, phone, 电话) | line 线路 |
               tier 梯队 (also 层级) | starts_at 开始时间 | ends_at 结束时间
  case_workers name 姓名 | phone 电话 | role 角色 | township 乡镇 | village 村 | active 在岗
               (儿童主任 / 儿童督导员 / partners: hotline/registry/worker_rows.py)
  service_providers, prices, subsidies: hotline/registry/service_rows.py. Technicians also take
               provider 服务商 (a registered provider's name; blank = none).

Also accepted: 手机/电话号码/联系电话 for phone, 住址 for address, 生日 for birth_date,
latitude/longitude/lon for lat/lng. Required columns: name and phone (residents, officers); name,
phone and skills (technicians); all five (rota).

Values: lists (phones, categories, skills) are separated by ; ； / 、 or commas. Phones become E.164.
Categories: advanced_age hardship empty_nest left_behind or 高龄 困难 空巢 留守. Skills: category codes,
their keys 1-5, or 生活照料 家政服务 精神慰藉 法律维护 紧急救援. active: 1/0, true/false, yes/no, 是/否,
在岗/离岗, blank = yes. role: officer/值班员 or supervisor/主管/督导, blank = officer. line: elderly/养老
or child/未成年人/儿童. Rota times are local to the bureau's zone unless they carry an offset.

Upserts: residents are matched by any of their phones (the row's phones then replace the stored ones),
technicians and officers by phone, rota shifts by officer, line, start and end (only tier changes).
A column missing from the file leaves that field of existing records untouched; a blank cell in a
present column clears it. `updated` counts every row that matched an existing record.

All or nothing: every row is validated before anything is touched; if any row fails, the session is
left unchanged and every error is returned. On success the rows are added and flushed; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.registry.csv_rows import (
    Row,
    RowError,
    Table,
    parse_active,
    parse_birth_date,
    parse_flags,
    parse_line,
    parse_phone,
    parse_phones,
    parse_role,
    parse_skills,
    parse_tier,
    parse_time,
    read_table,
)
from hotline.registry.service_rows import PLANNERS, SPECS, technician_provider
from hotline.registry.worker_rows import plan_case_workers
from models import (
    CATEGORY_CODES,
    RESIDENT_FLAGS,
    CaseWorker,
    Officer,
    Resident,
    ResidentPhone,
    RotaShift,
    Technician,
    officer_by_phone,
    technician_by_phone,
)
from models.phone import mask

__all__ = ["KINDS", "ImportResult", "RowError", "import_csv"]

KINDS = ("residents", "technicians", "officers", "rota", "case_workers", "service_providers", "prices", "subsidies")
# A longer shift is almost always a typo in the year or month, which would keep someone on call for months.
MAX_SHIFT_DAYS = 7


@dataclass
class ImportResult:
    """What an import did, or why it did nothing."""

    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file was imported."""
        return not self.errors


@dataclass
class _Change:
    """One validated row waiting to be written: a new record when `existing` is None."""

    model: type
    existing: object | None
    values: dict
    phones: list[str] | None = None  # residents only


def import_csv(session: Session, kind: str, data: bytes, tz: ZoneInfo, actor: str = "") -> ImportResult:
    """Validate a whole CSV file of `kind`, then upsert its rows and flush (the caller commits); `actor` is
    recorded as who added each new price or subsidy rule."""
    planner = _PLANNERS.get(kind)
    if planner is None:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    table = read_table(data, kind, SPECS.get(kind))
    errors = list(table.errors)
    changes = planner(session, table, tz, errors)
    if errors:
        return ImportResult(errors=sorted(errors, key=lambda e: e.line))
    result = ImportResult()
    for change in changes:
        if change.existing is None and kind in ("prices", "subsidies"):
            change.values["created_by"] = actor[:100]
        if _apply(change, session):
            result.created += 1
        else:
            result.updated += 1
    session.flush()
    return result


def _limit(model: type, column: str) -> int:
    # The model's column width, so a long cell fails here instead of at PostgreSQL's INSERT.
    return model.__table__.c[column].type.length


def _check_repeats(row: Row, phones: list[str], seen: dict[str, int]) -> None:
    for phone in phones:
        if phone in seen:
            row.error("duplicate_phone", value=mask(phone), other=seen[phone])
        else:
            seen[phone] = row.line


def _place(row: Row, values: dict) -> None:
    if row.has("lat") or row.has("lng"):
        values["lat"], values["lng"] = row.coords()


def _plan_residents(session: Session, table: Table, tz: ZoneInfo, errors: list[RowError]) -> list[_Change]:
    today = datetime.now(tz).date()
    changes: list[_Change] = []
    phone_lines: dict[str, int] = {}
    resident_lines: dict[int, int] = {}
    for line, cells in table.rows:
        row = Row(line, cells, table.columns, errors)
        values: dict = {"name": row.text("name", _limit(Resident, "name"), required=True)}
        for column in ("address", "community", "emergency_contact"):
            if row.has(column):
                values[column] = row.text(column, _limit(Resident, column))
        _place(row, values)
        if row.has("birth_date"):
            values["birth_date"] = row.parse("birth_date", lambda raw: parse_birth_date(raw, today))
        if row.has("categories"):
            flags = row.parse("categories", parse_flags) or []
            values.update({flag: flag in flags for flag in RESIDENT_FLAGS})
        phones = row.parse("phone", parse_phones, required=True)
        if not phones:
            continue
        _check_repeats(row, phones, phone_lines)
        owned = session.execute(
            select(ResidentPhone.phone, ResidentPhone.resident_id).where(ResidentPhone.phone.in_(phones))
        ).all()
        owners = {resident_id for _, resident_id in owned}
        existing = None
        if len(owners) > 1:
            row.error("phones_conflict", value="、".join(mask(phone) for phone, _ in owned))
        elif owners:
            existing = session.get(Resident, owners.pop())
            if existing.id in resident_lines:
                row.error("same_resident", other=resident_lines[existing.id])
            resident_lines.setdefault(existing.id, line)
        if not row.failed:
            changes.append(_Change(Resident, existing, values, phones))
    return changes


def _plan_technicians(session: Session, table: Table, tz: ZoneInfo, errors: list[RowError]) -> list[_Change]:
    changes: list[_Change] = []
    phone_lines: dict[str, int] = {}
    for line, cells in table.rows:
        row = Row(line, cells, table.columns, errors)
        values: dict = {"name": row.text("name", _limit(Technician, "name"), required=True)}
        skills = row.parse("skills", parse_skills, required=True)
        if skills == []:
            row.error("required", col="skills")
        # Stored in the canonical category order so equal skill sets compare equal.
        values["skills"] = ";".join(code for code in CATEGORY_CODES if code in (skills or []))
        if row.has("community"):
            values["community"] = row.text("community", _limit(Technician, "community"))
        _place(row, values)
        if row.has("active"):
            active = row.parse("active", parse_active)
            values["active"] = True if active is None else active
        if row.has("provider"):
            values["provider_id"] = technician_provider(session, row)
        _upsert_by_phone(session, row, values, phone_lines, Technician, technician_by_phone, changes)
    return changes


def _upsert_by_phone(session: Session, row: Row, values: dict, phone_lines: dict[str, int], model, find,
                     changes: list[_Change]) -> None:
    """Plan the row as an update of the record with its phone, or a new one; repeats in the file are errors."""
    phone = row.parse("phone", parse_phone, required=True)
    if phone is None:
        return
    _check_repeats(row, [phone], phone_lines)
    values["phone"] = phone
    if not row.failed:
        changes.append(_Change(model, find(session, phone), values))


def _plan_officers(session: Session, table: Table, tz: ZoneInfo, errors: list[RowError]) -> list[_Change]:
    changes: list[_Change] = []
    phone_lines: dict[str, int] = {}
    for line, cells in table.rows:
        row = Row(line, cells, table.columns, errors)
        values: dict = {"name": row.text("name", _limit(Officer, "name"), required=True)}
        if row.has("role"):
            values["role"] = row.parse("role", parse_role) or "officer"
        _upsert_by_phone(session, row, values, phone_lines, Officer, officer_by_phone, changes)
    return changes


def _plan_rota(session: Session, table: Table, tz: ZoneInfo, errors: list[RowError]) -> list[_Change]:
    changes: list[_Change] = []
    shift_lines: dict[tuple, int] = {}
    for line, cells in table.rows:
        row = Row(line, cells, table.columns, errors)
        phone = row.parse("officer_phone", parse_phone, required=True)
        officer = officer_by_phone(session, phone) if phone else None
        if phone and officer is None:
            row.error("unknown_officer", value=mask(phone))
        hotline = row.parse("line", parse_line, required=True)
        tier = row.parse("tier", parse_tier, required=True)
        starts = row.parse("starts_at", lambda raw: parse_time(raw, tz), required=True)
        ends = row.parse("ends_at", lambda raw: parse_time(raw, tz), required=True)
        if starts and ends and ends <= starts:
            row.error("end_before_start")
        elif starts and ends and ends - starts > timedelta(days=MAX_SHIFT_DAYS):
            row.error("shift_too_long", days=MAX_SHIFT_DAYS)
        if row.failed:
            continue
        key = (officer.id, hotline, starts, ends)
        if key in shift_lines:
            row.error("duplicate_shift", other=shift_lines[key])
            continue
        shift_lines[key] = line
        existing = session.scalar(select(RotaShift).where(
            RotaShift.officer_id == officer.id, RotaShift.line == hotline,
            RotaShift.starts_at == starts, RotaShift.ends_at == ends))
        values = {"officer_id": officer.id, "line": hotline, "tier": tier, "starts_at": starts, "ends_at": ends}
        changes.append(_Change(RotaShift, existing, values))
    return changes


def _plan_case_workers(session: Session, table: Table, tz: ZoneInfo, errors: list[RowError]) -> list[_Change]:
    return [_Change(CaseWorker, existing, values) for existing, values in plan_case_workers(session, table, errors)]


def _services(plan):
    def planner(session: Session, table: Table, tz: ZoneInfo, errors: list[RowError]) -> list[_Change]:
        return [_Change(model, existing, values) for model, existing, values in plan(session, table, errors)]
    return planner


_PLANNERS = {"residents": _plan_residents, "technicians": _plan_technicians, "officers": _plan_officers,
             "rota": _plan_rota, "case_workers": _plan_case_workers,
             **{kind: _services(plan) for kind, plan in PLANNERS.items()}}


def _apply(change: _Change, session: Session) -> bool:
    """Write one validated row; True when it created a record."""
    record = change.existing
    created = record is None
    if created:
        record = change.model()
        session.add(record)
    for name, value in change.values.items():
        setattr(record, name, value)
    if change.phones is not None:
        # Numbers already stored keep their rows (and so their order); numbers not in the row are dropped.
        kept = [p for p in record.phones if p.phone in change.phones]
        have = {p.phone for p in kept}
        record.phones = kept + [ResidentPhone(phone=p) for p in change.phones if p not in have]
    return created
