"""CSV import under generated files (issue 4, property 8): all of it, or none of it, and never an exception.

Files of all four kinds are generated with their columns in any order under any accepted header spelling,
optional columns left out, unknown columns added, blank lines, cells that are valid or broken in the ways
clerks break them (too long, Excel's scientific phone numbers, impossible dates, unknown words, stray
commas, a missing lat or lng), in UTF-8, UTF-8 with BOM, GB18030, UTF-16, or as random or damaged bytes.
The property: import_csv never raises; when it reports no error, every row is in the database as written;
when it reports errors, the session holds no change (nothing new, dirty or deleted, and a commit changes no
row of any table).
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, note, strategies as st
from sqlalchemy import select

from hotline.registry.csv_rows import parse_phone, parse_phones, parse_tier
from hotline.registry.importer import import_csv
from models import Officer, Resident, RotaShift, Technician, officer_by_phone, resident_by_phone, technician_by_phone
from models.phone import normalise
from tests.hypothesis_profiles import db_snapshot, fuzz_settings

pytestmark = pytest.mark.fuzz
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Numbers valid in China (checked at import time below), in the spellings clerks type them.
_MOBILES = [f"13{d}0476{n:04d}" for d in range(9, 3, -1) for n in (1234, 5678, 2201)] + \
           [f"15{d}4768{n:04d}" for d in (0, 1, 8) for n in (2201, 3302)] + ["18647612345", "17704761111"]
_LANDLINES = ["0476-8223344", "0476-8223345", "04768223346", "010-62345678", "021-55667788"]
POOL = [p for p in _MOBILES + _LANDLINES if normalise(p)]
OFFICERS = ["13800476001", "13800476002", "15004760003"]  # registered before every rota example


def spellings(number: str) -> st.SearchStrategy[str]:
    """One number as a clerk may write it."""
    e164 = normalise(number)
    variants = [number, e164, e164.replace("+", "00", 1), f"{number[:3]} {number[3:7]} {number[7:]}",
                "+86 " + number.lstrip("0") if number.startswith("1") else number]
    return st.sampled_from(variants)


def _text(min_size=1, max_size=20):
    return st.text(st.characters(categories=["Lo", "Lu", "Ll", "Nd", "Zs", "Po"], exclude_characters="\x00"),
                   min_size=min_size, max_size=max_size).map(str.strip).filter(bool)


NAMES = st.one_of(st.sampled_from(["王秀英", "张桂兰", "李师傅", "Zhang Wei", "阿卜杜热合曼·买买提", "O'Brien, Jr."]),
                  _text(1, 30))
BROKEN_TEXT = st.sampled_from(["", "x" * 400, "超长" * 160])
BAD_PHONE = st.sampled_from(["12345", "1.39E+10", "1.3904761234e+10", "abc", "电话", "+86", "139047612345678",
                             "13904761234;abc", "；", "0000000"])
LAT, LNG = st.floats(-90, 90).map(lambda v: f"{v:.5f}"), st.floats(-180, 180).map(lambda v: f"{v:.5f}")
BAD_NUMBER = st.sampled_from(["abc", "91", "-181", "nan", "inf", "1e309", "43,98", "四十三"])
BIRTH = st.sampled_from(["1941-05-12", "1949/10/3", "1950年3月4日", "1938.2.1", "1941-05-12 00:00:00", ""])
BAD_BIRTH = st.sampled_from(["2099-01-01", "1950-02-30", "0000-01-01", "1950-13-01", "yesterday", "1950年13月1日"])
FLAGS = st.sampled_from(["advanced_age;empty_nest", "高龄、空巢", "困难", "left_behind", "", "HARDSHIP；留守"])
BAD_FLAGS = st.sampled_from(["富裕", "advanced_age;rich", "高龄、x"])
SKILLS = st.sampled_from(["housekeeping", "daily_care;housekeeping", "1;2", "家政服务、紧急救援", "5", "Emergency"])
BAD_SKILLS = st.sampled_from(["飞行", "6", "housekeeping;flying", ""])
ACTIVE = st.sampled_from(["", "是", "否", "1", "0", "yes", "NO", "在岗", "离岗"])
BAD_ACTIVE = st.sampled_from(["maybe", "2", "在"])
ROLE = st.sampled_from(["", "officer", "值班员", "supervisor", "主管", "督导"])
BAD_ROLE = st.sampled_from(["boss", "管理员"])
LINE = st.sampled_from(["elderly", "养老", "child", "未成年人", "儿童", "CHILD"])
BAD_LINE = st.sampled_from(["both", "老人", "x"])
TIER = st.sampled_from(["1", "2", "3", "2.0"])
BAD_TIER = st.sampled_from(["0", "-1", "x", "1.5", "9" * 30, "9" * 400, "1e3", "²"])
BAD_TIME = st.sampled_from(["2026-12-01 25:00", "2026-13-01 08:00", "2026-02-30 08:00", "tomorrow", "08:00",
                            "9999-12-31 23:30-14:00", "0001-01-01 00:00", "0001-01-01T00:30+08:00",
                            "9999-12-31T23:59:59", "2026-12-01 08:00+25:00"])


def _time(when: datetime, style: int) -> str:
    local = when.astimezone(SHANGHAI)
    return [local.strftime("%Y-%m-%d %H:%M"), local.strftime("%Y/%m/%d %H:%M:%S"),
            local.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")][style]


# Per kind: column -> (header spellings, valid cell, broken cell). `phone` cells are filled separately.
HEADERS = {
    "name": ["name", "姓名", "Name", " NAME "], "phone": ["phone", "电话", "手机", "联系电话", "电话号码", "Phone"],
    "address": ["address", "地址", "住址"], "community": ["community", "社区"], "lat": ["lat", "纬度", "latitude"],
    "lng": ["lng", "经度", "longitude", "lon"], "birth_date": ["birth_date", "出生日期", "生日", "Birth Date"],
    "categories": ["categories", "类别"], "emergency_contact": ["emergency_contact", "紧急联系人", "emergency-contact"],
    "skills": ["skills", "技能"], "active": ["active", "在岗"], "role": ["role", "角色"],
    "officer_phone": ["officer_phone", "值班人员电话", "值班员电话", "phone", "电话"], "line": ["line", "线路"],
    "tier": ["tier", "梯队", "层级"], "starts_at": ["starts_at", "开始时间"], "ends_at": ["ends_at", "结束时间"],
}
CELLS = {
    "name": (NAMES, BROKEN_TEXT), "address": (_text(0, 60), st.just("地" * 301)),
    "community": (_text(0, 20), st.just("社" * 101)), "lat": (LAT, BAD_NUMBER), "lng": (LNG, BAD_NUMBER),
    "birth_date": (BIRTH, BAD_BIRTH), "categories": (FLAGS, BAD_FLAGS),
    "emergency_contact": (_text(0, 30), st.just("儿" * 201)), "skills": (SKILLS, BAD_SKILLS),
    "active": (ACTIVE, BAD_ACTIVE), "role": (ROLE, BAD_ROLE), "line": (LINE, BAD_LINE), "tier": (TIER, BAD_TIER),
}
COLUMNS = {
    "residents": ["name", "phone", "address", "community", "lat", "lng", "birth_date", "categories",
                  "emergency_contact"],
    "technicians": ["name", "phone", "skills", "community", "lat", "lng", "active"],
    "officers": ["name", "phone", "role"],
    "rota": ["officer_phone", "line", "tier", "starts_at", "ends_at"],
}
REQUIRED = {"residents": {"name", "phone"}, "technicians": {"name", "phone", "skills"},
            "officers": {"name", "phone"}, "rota": set(COLUMNS["rota"])}


@st.composite
def csv_files(draw, kind: str):
    """(bytes, the rows as written, whether the writer meant every row to be valid)."""
    meant_valid = True
    columns = [c for c in COLUMNS[kind] if c in REQUIRED[kind] or draw(st.booleans())]
    if draw(st.integers(0, 15)) == 0:  # now and then a required column is missing
        columns.remove(draw(st.sampled_from(sorted(REQUIRED[kind]))))
        meant_valid = False
    if ("lat" in columns) != ("lng" in columns):  # usually both; one alone is refused on every row
        if draw(st.integers(0, 3)):
            columns.append("lng" if "lat" in columns else "lat")
        else:
            meant_valid = False
    columns = draw(st.permutations(columns))
    layout = [(draw(st.sampled_from(HEADERS[c])), c) for c in columns]  # (header cell, column)
    extra = draw(st.sampled_from([None, "备注", "No.", "序号"]))  # a column the importer ignores
    if extra:
        layout.insert(draw(st.integers(0, len(layout))), (extra, None))
    n = draw(st.integers(0, 6))
    phones = draw(st.lists(st.sampled_from(POOL), min_size=n, max_size=n, unique=True))
    start = datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)
    rows = []
    for i in range(n):
        broken = draw(st.integers(0, 5)) == 0
        meant_valid &= not broken
        target = draw(st.sampled_from(columns)) if broken else None
        row = {}
        for column in columns:
            bad = column == target
            if column == "phone" and kind == "residents":
                more = draw(st.lists(st.sampled_from([p for p in POOL if p not in phones]), max_size=1))
                row[column] = draw(BAD_PHONE) if bad else draw(st.sampled_from([";", "、", "；", " / "])).join(
                    [draw(spellings(phones[i]))] + [draw(spellings(p)) for p in more])
            elif column in ("phone", "officer_phone"):
                number = draw(st.sampled_from(OFFICERS)) if kind == "rota" else phones[i]
                row[column] = draw(BAD_PHONE) if bad else draw(spellings(number))
            elif column in ("starts_at", "ends_at"):
                if bad:
                    row[column] = draw(BAD_TIME)
                else:
                    begin = start + timedelta(hours=draw(st.integers(0, 24 * 30)))
                    row["_starts"] = row.get("_starts", begin)
                    when = row["_starts"] if column == "starts_at" else \
                        row["_starts"] + timedelta(hours=draw(st.integers(1, 48)))
                    row[column] = _time(when, draw(st.integers(0, 3)))
            else:
                good, broken_cell = CELLS[column]
                row[column] = draw(broken_cell if bad else good)
        row.pop("_starts", None)
        rows.append(row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\r\n", "\n"])))
    writer.writerow([cell for cell, _ in layout])
    for row in rows:
        writer.writerow([row[column] if column else draw(_text(0, 10)) for _, column in layout])
        if draw(st.integers(0, 10)) == 0:
            out.write("\r\n" if draw(st.booleans()) else ",,\n")  # blank lines Excel leaves
    text = out.getvalue()
    if draw(st.integers(0, 15)) == 0 and rows:  # an unquoted comma: more cells than the header
        text = text.rstrip("\r\n") + ",多余,cells\n"
        meant_valid = False
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "gb18030", "utf-16", "damaged", "random"]))
    if encoding == "random":
        return draw(st.binary(max_size=300)), rows, False
    if encoding == "damaged":  # UTF-8 with a stray byte (a file cut and pasted between programs)
        data = text.encode()
        cut = draw(st.integers(0, len(data)))
        return data[:cut] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x80", b"\x00"])) + data[cut:], rows, False
    return text.encode(encoding), rows, meant_valid and encoding != "utf-16"


def _expect_imported(db, kind: str, rows: list[dict]) -> None:
    """Every row is in the database as written (names and numbers; the tier of each shift)."""
    db.expire_all()
    for row in rows:
        if kind == "residents":
            phones = parse_phones(row["phone"])
            owner = resident_by_phone(db, phones[0])
            assert owner is not None and owner.name == row["name"].strip()
            assert {p.phone for p in owner.phones} == set(phones)
        elif kind == "technicians":
            tech = technician_by_phone(db, parse_phone(row["phone"]))
            assert tech is not None and tech.name == row["name"].strip()
        elif kind == "officers":
            officer = officer_by_phone(db, parse_phone(row["phone"]))
            assert officer is not None and officer.name == row["name"].strip()
        else:
            officer = officer_by_phone(db, parse_phone(row["officer_phone"]))
            tiers = db.scalars(select(RotaShift.tier).where(RotaShift.officer_id == officer.id)).all()
            assert parse_tier(row["tier"]) in tiers


@pytest.mark.parametrize("kind", ["residents", "technicians", "officers", "rota"])
def test_import_is_all_or_nothing_and_never_raises(kind, app, db):
    engine = app.extensions["hotline"].engine
    for i, phone in enumerate(OFFICERS):
        db.add(Officer(name=f"值班员{i}", phone=normalise(phone)))
    db.commit()
    outcomes = {"imported": 0, "refused": 0}

    @fuzz_settings()
    @given(generated=csv_files(kind))
    def check(generated):
        data, rows, meant_valid = generated
        note(f"{kind} file: {data[:2000]!r}")
        before = db_snapshot(engine)
        result = import_csv(db, kind, data, SHANGHAI)  # must not raise, whatever the bytes
        note(f"errors: {[e.message for e in result.errors]}")
        if result.ok:
            outcomes["imported"] += 1
            assert rows, "a file without data rows was imported"
            assert result.created + result.updated == len(rows)
            db.commit()
            _expect_imported(db, kind, rows)
            model = {"residents": Resident, "technicians": Technician, "officers": Officer, "rota": RotaShift}[kind]
            grew = len(db_snapshot(engine)[model.__tablename__]) - len(before[model.__tablename__])
            assert grew == result.created
        else:
            outcomes["refused"] += 1
            assert not meant_valid or not rows or any(e.line == 0 for e in result.errors) or _explainable(result), \
                f"a file meant to be valid was refused: {[e.message for e in result.errors]}"
            assert not (db.new or db.dirty or db.deleted), "a refused import left changes in the session"
            db.commit()  # even a careless caller that commits changes nothing
            assert db_snapshot(engine) == before, "a refused import changed the database"

    check()
    # The generator must exercise both branches of the property, or it proves half of it.
    assert outcomes["imported"] and outcomes["refused"], outcomes


def _explainable(result) -> bool:
    """Refusals a valid-looking file can still earn: its numbers clash with records of earlier examples."""
    return all(any(word in e.message for word in ("分属不同的居民", "同一位居民", "重复", "与第", "班次"))
               for e in result.errors)


# --- exact files the fuzzer found, always run --------------------------------------------------------------

ROTA_HEAD = "officer_phone,line,tier,starts_at,ends_at\n"


@pytest.mark.parametrize("body,fragment", [
    ("13800476001,elderly,1,0001-01-01 00:00,0001-01-01 08:00\n", "开始时间"),  # before year 1 in UTC
    ("13800476001,elderly,1,9999-12-31 10:00,9999-12-31 23:30-14:00\n", "结束时间"),  # after year 9999 in UTC
    ("13800476001,elderly," + "9" * 400 + ",2026-12-01 08:00,2026-12-01 20:00\n", "梯队"),  # float('9'*400) = inf
    ("13800476001,elderly," + "9" * 30 + ",2026-12-01 08:00,2026-12-01 20:00\n", "梯队"),  # overflows the column
], ids=["year-1", "year-10000", "tier-inf", "tier-overflow"])
def test_rota_values_out_of_any_range_are_row_errors(app, db, body, fragment):
    db.add(Officer(name="值班员", phone=normalise(OFFICERS[0])))
    db.commit()
    before = db_snapshot(app.extensions["hotline"].engine)
    result = import_csv(db, "rota", (ROTA_HEAD + body).encode(), SHANGHAI)
    assert {e.line for e in result.errors} == {2} and any(fragment in e.message for e in result.errors)
    db.commit()
    assert db_snapshot(app.extensions["hotline"].engine) == before


@pytest.mark.parametrize("header", ["住址,姓名,电话", "纬度,经度,姓名,电话", "电话,住址,姓名", "角色,电话,姓名"])
def test_gb18030_file_whose_first_chinese_bytes_happen_to_be_valid_utf8_is_read(app, db, header):
    """住 (D7 A1), 纬 (CE B3) and the E7 BB B0 in 电话 (B5 E7 BB B0) are also valid UTF-8: the file is still
    GB18030, not damaged UTF-8."""
    cells = {"角色": "", "姓名": "王秀英", "电话": "139 0476 1234", "住址": "林东镇向阳社区", "纬度": "43.98",
             "经度": "119.39", "社区": "向阳社区"}
    text = header + "\n" + ",".join(cells[h] for h in header.split(",")) + "\n"
    result = import_csv(db, "residents", text.encode("gb18030"), SHANGHAI)
    assert result.ok, [e.message for e in result.errors]
    assert resident_by_phone(db, "+8613904761234").name == "王秀英"


def test_gb18030_file_with_one_chinese_word_that_is_half_valid_utf8_is_read(app, db):
    """The fuzzer's smallest case: 电话 in GB18030 is one bad UTF-8 byte and one valid UTF-8 character."""
    result = import_csv(db, "officers", b"role,\xb5\xe7\xbb\xb0,name\r\n,13904761234,Zhang Wei\r\n", SHANGHAI)
    assert result.ok, [e.message for e in result.errors]
    assert officer_by_phone(db, "+8613904761234").name == "Zhang Wei"


def test_utf8_file_damaged_by_a_stray_byte_is_still_refused(app, db):
    data = "姓名,电话,住址\n王秀英,13904761234,林东镇向阳社区\n".encode() + b"\xff\n"
    result = import_csv(db, "residents", data, SHANGHAI)
    assert [e.line for e in result.errors] == [3] and "UTF-8" in result.errors[0].message
