"""Reading registry CSV files as Excel exports them: decoding, headers, and parsing cell by cell."""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import partial
from zoneinfo import ZoneInfo

from hotline.registry.messages import COLUMN_ZH, message
from models import CATEGORIES, RESIDENT_FLAGS
from models.phone import InvalidPhone, mask_text, normalise

COLUMNS = {"residents": ("name", "phone", "address", "community", "lat", "lng", "birth_date", "categories",
                         "emergency_contact"),
           "technicians": ("name", "phone", "skills", "community", "lat", "lng", "active", "provider"),
           "officers": ("name", "phone", "role"), "rota": ("officer_phone", "line", "tier", "starts_at", "ends_at"),
           "case_workers": ("name", "phone", "role", "township", "village", "active")}
REQUIRED = {"residents": ("name", "phone"), "technicians": ("name", "phone", "skills"), "officers": ("name", "phone"),
            "rota": COLUMNS["rota"], "case_workers": ("name", "phone", "role", "township")}
# Header spellings beyond the column names themselves and COLUMN_ZH, as clerks actually type them.
_EXTRA_HEADERS = {
    "latitude": "lat", "longitude": "lng", "lon": "lng", "手机": "phone", "电话号码": "phone",
    "联系电话": "phone", "住址": "address", "生日": "birth_date", "层级": "tier", "值班员电话": "officer_phone",
    "镇": "township", "苏木乡镇": "township", "村": "village", "嘎查村": "village",
}

_FLAGS = {**{f: f for f in RESIDENT_FLAGS}, "高龄": "advanced_age", "困难": "hardship", "空巢": "empty_nest",
          "留守": "left_behind"}
# dispatch/texts.py calls housekeeping 家政维修, so both spellings are accepted.
_SKILLS = {**{c: c for c in CATEGORIES.values()}, **CATEGORIES, "生活照料": "daily_care", "家政服务": "housekeeping",
           "家政维修": "housekeeping", "精神慰藉": "companionship", "法律维护": "legal_aid", "紧急救援": "emergency"}
_ACTIVE = {**dict.fromkeys(("1", "true", "yes", "y", "是", "在岗"), True),
           **dict.fromkeys(("0", "false", "no", "n", "否", "离岗"), False)}
_ROLES = {"officer": "officer", "值班员": "officer",
          "supervisor": "supervisor", "主管": "supervisor", "督导": "supervisor"}
_LINES = {"elderly": "elderly", "养老": "elderly", "child": "child", "未成年人": "child", "儿童": "child"}

_LIST_SPLIT = re.compile(r"[;；/、,，]")
_SCIENTIFIC = re.compile(r"\d(\.\d+)?e\+?\d+", re.I)
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0?0:00(?::00)?)?")
_DATETIME = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                       r"\s*(Z|[+-]\d{2}:?\d{2})?", re.I)


@dataclass(frozen=True)
class RowError:
    """One problem in an import file; `line` counts as a spreadsheet does (header = 1, 0 = whole file)."""

    line: int
    message: str


class CellError(ValueError):
    """A cell that cannot be used; `key` picks the message in MESSAGES."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key, self.params = key, params


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 as Chinese Excel saves it; CellError if neither."""
    if b"\x00" in data:  # UTF-16 ("Unicode text") or a binary .xlsx: neither is CSV, and PostgreSQL refuses NUL
        raise CellError("encoding", line=data[:data.index(b"\x00")].count(b"\n") + 1)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        # Non-ASCII text before UTF-8's first bad byte: a damaged UTF-8 file, reported where it breaks.
        bad = exc if data[:utf8_error.start].isascii() else utf8_error
        raise CellError("encoding", line=data[:bad.start].count(b"\n") + 1) from exc
    # Both readings work. Mostly valid UTF-8 with a few bad bytes is a damaged UTF-8 file: reading it as
    # GB18030 would import mojibake silently. GB18030 text forms a valid UTF-8 sequence only now and then
    # (住 is D7 A1; 电话 is B5 E7 BB B0), so such coincidences are weighed against the bytes that are not UTF-8.
    as_utf8 = data.decode("utf-8-sig", errors="replace")
    invalid = as_utf8.count("\ufffd")
    if sum(1 for ch in as_utf8 if ch > "\x7f") - invalid > invalid:
        raise CellError("encoding", line=data[:utf8_error.start].count(b"\n") + 1) from utf8_error
    return text


@dataclass
class Table:
    """The data rows of a file by column name, with the columns its header has."""

    columns: frozenset[str] = frozenset()
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _header_key(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.replace("\ufeff", "").strip().lower())


def read_table(data: bytes, kind: str, spec: tuple | None = None) -> Table:
    """Decode and split a CSV file of `kind` (or of `spec`: columns, required, extra headers); header or file-level
    problems come back as errors."""
    columns, required, headers = spec or (COLUMNS[kind], REQUIRED[kind], {})
    table = Table()
    try:
        records = list(enumerate(csv.reader(io.StringIO(decode(data), newline="")), start=1))
    except CellError as exc:
        table.errors.append(RowError(exc.params["line"], message(exc.params["line"], "encoding")))
        return table
    except csv.Error:
        table.errors.append(RowError(0, message(0, "bad_csv")))
        return table
    # Blank records still count, so line numbers match the spreadsheet row the clerk sees.
    records = [(line, [c.strip() for c in cells]) for line, cells in records if any(c.strip() for c in cells)]
    if not records:
        table.errors.append(RowError(0, message(0, "no_rows")))
        return table
    (head_line, header), body = records[0], records[1:]
    aliases = {**{c: c for c in columns}, **{COLUMN_ZH[c]: c for c in columns},
               **{k: v for k, v in _EXTRA_HEADERS.items() if v in columns}, **headers}
    if kind == "rota":
        aliases.update({"phone": "officer_phone", "电话": "officer_phone"})
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        column = aliases.get(_header_key(cell))
        if column is None:
            continue  # notes columns a clerk added are ignored, not rejected
        if column in positions:
            table.errors.append(RowError(head_line, message(head_line, "duplicate_column", col=column)))
        positions[column] = index
    for column in required:
        if column not in positions:
            table.errors.append(RowError(head_line, message(head_line, "missing_column", col=column)))
    if not table.errors and not body:
        table.errors.append(RowError(0, message(0, "no_rows")))
    if table.errors:
        return table
    table.columns = frozenset(positions)
    for line, cells in body:
        if any(cells[len(header):]):
            table.errors.append(RowError(line, message(line, "extra_cells")))
            continue
        table.rows.append((line, {c: cells[i] if i < len(cells) else "" for c, i in positions.items()}))
    return table


class Row:
    """One data row being validated; parse failures are collected rather than raised."""

    def __init__(self, line: int, cells: dict[str, str], columns: frozenset[str], errors: list[RowError]):
        self.line, self.cells, self.columns, self.errors = line, cells, columns, errors
        self.failed = False

    def has(self, column: str) -> bool:
        """Whether the file has this column at all (absent columns leave stored values alone)."""
        return column in self.columns

    def error(self, key: str, **params) -> None:
        """Record an error against this row."""
        self.errors.append(RowError(self.line, message(self.line, key, **params)))
        self.failed = True

    def text(self, column: str, limit: int, required: bool = False) -> str:
        """A free-text cell, checked for presence and length."""
        value = self.cells.get(column, "")
        if required and not value:
            self.error("required", col=column)
        elif len(value) > limit:
            self.error("too_long", col=column, limit=limit)
        return value

    def parse(self, column: str, parser, required: bool = False):
        """A cell run through `parser`, or None when blank or invalid (the error is recorded)."""
        raw = self.cells.get(column, "")
        if not raw:
            if required:
                self.error("required", col=column)
            return None
        try:
            return parser(raw)
        except CellError as exc:
            self.error(exc.key, col=column, **exc.params)
            return None

    def coords(self) -> tuple[float | None, float | None]:
        """Latitude and longitude, both or neither."""
        if bool(self.cells.get("lat")) != bool(self.cells.get("lng")):
            self.error("coords_pair")
            return None, None
        lat = self.parse("lat", lambda raw: parse_number(raw, -90, 90))
        lng = self.parse("lng", lambda raw: parse_number(raw, -180, 180))
        return (lat, lng) if lat is not None and lng is not None else (None, None)


def split_list(raw: str) -> list[str]:
    """Items of a cell that holds several values separated by ; ； / 、 or commas."""
    return [item.strip() for item in _LIST_SPLIT.split(raw) if item.strip()]


def parse_phone(raw: str) -> str:
    """One phone number in E.164; the error shows it masked because errors reach the logs."""
    if _SCIENTIFIC.fullmatch(raw):
        raise CellError("scientific_phone")
    try:
        return normalise(raw)
    except InvalidPhone as exc:
        raise CellError("invalid_phone", value=mask_text(raw)) from exc


def parse_phones(raw: str) -> list[str]:
    """Several phone numbers in E.164, in order, each once."""
    phones = list(dict.fromkeys(parse_phone(item) for item in split_list(raw)))
    if not phones:
        raise CellError("invalid_phone", value=mask_text(raw)[:40])
    return phones


def parse_number(raw: str, low: float, high: float) -> float:
    """A finite float within [low, high]."""
    try:
        value = float(raw)
    except ValueError as exc:
        raise CellError("not_a_number") from exc
    if not math.isfinite(value) or not low <= value <= high:
        raise CellError("out_of_range", low=low, high=high)
    return value


def parse_codes(raw: str, aliases: dict[str, str], key: str) -> list[str]:
    """Codes from a list cell via `aliases` (matched case-insensitively), each once."""
    codes = []
    for item in split_list(raw):
        code = aliases.get(item.lower())
        if code is None:
            raise CellError(key, value=mask_text(item)[:40])
        codes.append(code)
    return list(dict.fromkeys(codes))


def parse_choice(raw: str, choices: dict, key: str):
    """One value from a fixed vocabulary, matched case-insensitively."""
    value = choices.get(raw.lower())
    if value is None:
        raise CellError(key, value=mask_text(raw)[:40])
    return value


# Each vocabulary cell parser: resident flags, technician skills, on duty, officer role, hotline line.
parse_flags = partial(parse_codes, aliases=_FLAGS, key="unknown_flag")
parse_skills = partial(parse_codes, aliases=_SKILLS, key="unknown_skill")
parse_active = partial(parse_choice, choices=_ACTIVE, key="invalid_active")
parse_role = partial(parse_choice, choices=_ROLES, key="unknown_role")
parse_line = partial(parse_choice, choices=_LINES, key="unknown_line")


MAX_TIER = 99  # a rota never has this many tiers; a larger number is a typo (and overflows the column)


def parse_tier(raw: str) -> int:
    """A tier: a whole number from 1 to MAX_TIER (Excel's `2.0` included)."""
    match = re.fullmatch(r"(\d{1,9})(\.0+)?", raw)
    if not match or not 1 <= int(match.group(1)) <= MAX_TIER:
        raise CellError("invalid_tier", max_tier=MAX_TIER)
    return int(match.group(1))


def parse_birth_date(raw: str, today: date) -> date:
    """A date as 1958-03-04, 1958/3/4 or 1958年3月4日, not after `today`."""
    match = _DATE.fullmatch(raw)
    try:
        value = date(*(int(g) for g in match.groups())) if match else None
    except ValueError:
        value = None
    if value is None:
        raise CellError("invalid_date")
    if value > today:
        raise CellError("future_date")
    return value


def parse_time(raw: str, tz: ZoneInfo) -> datetime:
    """An ISO-8601 local time in `tz` unless it carries an offset; returned aware in UTC."""
    match = _DATETIME.fullmatch(raw)
    if not match:
        raise CellError("invalid_time")
    *parts, offset = match.groups()
    try:
        zone = datetime.strptime(offset.upper(), "%z").tzinfo if offset else tz
        value = datetime(*(int(p or 0) for p in parts), tzinfo=zone)
        return value.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:  # OverflowError: 0001-01-01 east of UTC, 9999-12-31 west of it
        raise CellError("invalid_time") from exc
