"""Registry CSV import and the demo loader, against a real SQLite database."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hotline.registry.demo import DEMO_RESIDENT_PHONE, DEMO_ROTA_DAYS, DEMO_TECHNICIAN_PHONE, load_demo
from hotline.registry.importer import import_csv
from models import (
    Officer,
    Resident,
    ResidentPhone,
    RotaShift,
    Technician,
    officer_by_phone,
    on_duty_tiers,
    resident_by_phone,
    technician_by_phone,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

RESIDENTS = """\
name,phone,address,community,lat,lng,birth_date,categories,emergency_contact
张桂兰,139 0476 1234;0476-8223344,林东镇东城社区3号楼2单元,东城社区,43.98,119.39,1941-05-12,advanced_age;empty_nest,儿子
王凤英,150 4768 2201,林东镇西城社区7号楼1单元,西城社区,,,1949/10/3,困难,
"""
OFFICERS = "name,phone,role\n王海燕,138 0476 0001,\n赵建国,150 0476 0003,主管\n"


@pytest.fixture
def session(tmp_path):
    from models import Base, make_engine, make_session_factory
    engine = make_engine(f"sqlite:///{tmp_path}/t.db")
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as s:
        yield s
    engine.dispose()


def run(session, kind, text, encoding="utf-8", tz=SHANGHAI):
    return import_csv(session, kind, text.encode(encoding), tz)


def counts(session):
    return {m.__name__: session.scalar(select(func.count()).select_from(m))
            for m in (Resident, ResidentPhone, Technician, Officer, RotaShift)}


def messages(result):
    return [(e.line, e.message) for e in result.errors]


# --- happy paths -------------------------------------------------------------------------------

def test_import_residents_creates_residents_with_phones_flags_and_place(session):
    result = run(session, "residents", RESIDENTS)
    assert (result.created, result.updated, result.errors) == (2, 0, [])
    zhang = resident_by_phone(session, "+8613904761234")
    assert [p.phone for p in zhang.phones] == ["+8613904761234", "+864768223344"]
    assert zhang.flags == ["advanced_age", "empty_nest"]
    assert (zhang.lat, zhang.lng, zhang.birth_date) == (43.98, 119.39, date(1941, 5, 12))
    assert zhang.address == "林东镇东城社区3号楼2单元" and zhang.emergency_contact == "儿子"
    wang = resident_by_phone(session, "+8615047682201")
    assert wang.flags == ["hardship"] and (wang.lat, wang.lng) == (None, None)
    assert wang.birth_date == date(1949, 10, 3)


def test_import_technicians_parses_skills_in_any_spelling_and_active(session):
    text = ("name,phone,skills,community,lat,lng,active\n"
            "赵志刚,138 0476 1101,daily_care;housekeeping,东城社区,43.98,119.39,\n"
            "孙秀芳,138 0476 1102,精神慰藉；1,西城社区,,,否\n"
            "周建军,138 0476 1103,4/紧急救援,,,,在岗\n")
    assert run(session, "technicians", text).created == 3
    zhao, sun, zhou = (technician_by_phone(session, f"+861380476110{i}") for i in (1, 2, 3))
    assert zhao.skill_list == ["daily_care", "housekeeping"] and zhao.active is True
    assert sun.skill_list == ["daily_care", "companionship"] and sun.active is False
    assert zhou.skill_list == ["legal_aid", "emergency"] and zhou.active is True


def test_import_officers_defaults_blank_role_to_officer(session):
    assert run(session, "officers", OFFICERS).created == 2
    assert officer_by_phone(session, "+8613804760001").role == "officer"
    assert officer_by_phone(session, "+8615004760003").role == "supervisor"


def test_import_rota_stores_local_times_as_utc(session):
    run(session, "officers", OFFICERS)
    text = ("officer_phone,line,tier,starts_at,ends_at\n"
            "138 0476 0001,elderly,1,2026-12-01 08:00,2026-12-01 20:00\n"
            "15004760003,儿童,2,2026-12-01 08:00,2026-12-02 08:00\n")
    assert run(session, "rota", text).created == 2
    first, second = session.scalars(select(RotaShift).order_by(RotaShift.id))
    assert first.starts_at == datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
    assert first.ends_at == datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert (first.line, first.tier, first.officer.phone) == ("elderly", 1, "+8613804760001")
    assert (second.line, second.tier) == ("child", 2)


def test_rota_time_with_explicit_offset_ignores_import_time_zone(session):
    run(session, "officers", OFFICERS)
    text = ("officer_phone,line,tier,starts_at,ends_at\n"
            "13804760001,elderly,1,2026-12-01T08:00:00+08:00,2026-12-01T10:00:00Z\n")
    assert run(session, "rota", text, tz=ZoneInfo("America/New_York")).ok
    shift = session.scalar(select(RotaShift))
    assert shift.starts_at == datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
    assert shift.ends_at == datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def test_rota_time_without_offset_is_local_to_the_given_zone(session):
    run(session, "officers", OFFICERS)
    text = "officer_phone,line,tier,starts_at,ends_at\n13804760001,child,1,2026/12/1 8:00,2026-12-01 09:30:00\n"
    assert run(session, "rota", text, tz=ZoneInfo("America/New_York")).ok
    shift = session.scalar(select(RotaShift))
    assert shift.starts_at == datetime(2026, 12, 1, 13, 0, tzinfo=timezone.utc)
    assert shift.ends_at == datetime(2026, 12, 1, 14, 30, tzinfo=timezone.utc)


# --- encodings, headers, layout ------------------------------------------------------------------

def test_utf8_file_with_bom_is_read(session):
    result = import_csv(session, "residents", "\ufeff".encode() + RESIDENTS.encode("utf-8"), SHANGHAI)
    assert result.created == 2


def test_gb18030_file_with_chinese_headers_is_read(session):
    text = ("姓名,电话,地址,社区,纬度,经度,出生日期,类别,紧急联系人\n"
            "刘振海,186 4760 2233,林东镇南城社区,南城社区,43.97,119.38,1938年2月20日,高龄;留守,侄子\n")
    assert run(session, "residents", text, encoding="gb18030").created == 1
    liu = resident_by_phone(session, "+8618647602233")
    assert (liu.name, liu.community, liu.birth_date) == ("刘振海", "南城社区", date(1938, 2, 20))
    assert liu.flags == ["advanced_age", "left_behind"]


def test_chinese_rota_and_officer_headers_are_accepted(session):
    assert run(session, "officers", "姓名,电话,角色\n王海燕,13804760001,值班员\n").created == 1
    text = "值班人员电话,线路,梯队,开始时间,结束时间\n13804760001,养老,1,2026-12-01 08:00,2026-12-01 20:00\n"
    assert run(session, "rota", text).created == 1


def test_header_names_are_case_insensitive_and_trimmed(session):
    assert run(session, "officers", " Name , PHONE ,Role\n王海燕,13804760001,Supervisor\n").created == 1
    assert officer_by_phone(session, "+8613804760001").role == "supervisor"


@pytest.mark.parametrize("raw, e164", [
    ("139 0476 1234", "+8613904761234"),
    ("+86 139 0476 1234", "+8613904761234"),
    ("0476-8223344", "+864768223344"),
    ("008613904761234", "+8613904761234"),
])
def test_phone_forms_are_stored_as_e164(session, raw, e164):
    assert run(session, "officers", f"name,phone\n王海燕,{raw}\n").ok
    assert session.scalar(select(Officer.phone)) == e164


def test_birth_date_forms_are_accepted(session):
    text = ("name,phone,birth_date\n甲,13904761231,1958-03-04\n乙,13904761232,1958/3/4\n"
            "丙,13904761233,1958年3月4日\n")
    assert run(session, "residents", text).ok
    assert set(session.scalars(select(Resident.birth_date))) == {date(1958, 3, 4)}


def test_blank_lines_whitespace_and_trailing_empty_columns_are_tolerated(session):
    text = "name,phone,role,,\r\n\r\n  王海燕 , 13804760001 ,,,\r\n,,,,\r\n赵建国,15004760003,主管,,\r\n\r\n"
    result = run(session, "officers", text)
    assert (result.created, result.errors) == (2, [])
    assert officer_by_phone(session, "+8613804760001").name == "王海燕"


def test_line_numbers_count_blank_lines_like_a_spreadsheet(session):
    result = run(session, "officers", "name,phone\n\n王海燕,13804760001\n\n赵建国,bad\n")
    assert [e.line for e in result.errors] == [5]


def test_unknown_columns_are_ignored(session):
    assert run(session, "officers", "序号,name,phone,备注\n1,王海燕,13804760001,夜班\n").created == 1


# --- upserts -------------------------------------------------------------------------------------

def test_reimport_updates_resident_without_duplicating(session):
    run(session, "residents", RESIDENTS)
    session.commit()
    changed = RESIDENTS.replace("林东镇东城社区3号楼2单元", "林东镇东城社区9号楼1单元")
    result = run(session, "residents", changed)
    assert (result.created, result.updated) == (0, 2)
    assert counts(session)["Resident"] == 2 and counts(session)["ResidentPhone"] == 3
    assert resident_by_phone(session, "+864768223344").address == "林东镇东城社区9号楼1单元"


def test_reimport_matches_resident_by_any_phone_and_replaces_the_phone_list(session):
    run(session, "residents", RESIDENTS)
    result = run(session, "residents", "name,phone\n张桂兰,0476-8223344;138 0476 9999\n")
    assert (result.created, result.updated) == (0, 1)
    zhang = resident_by_phone(session, "+864768223344")
    assert [p.phone for p in zhang.phones] == ["+864768223344", "+8613804769999"]
    assert resident_by_phone(session, "+8613904761234") is None
    assert counts(session)["Resident"] == 2


def test_column_absent_from_file_leaves_stored_values_alone(session):
    run(session, "residents", RESIDENTS)
    run(session, "residents", "name,phone\n张桂兰（改）,139 0476 1234;0476-8223344\n")
    zhang = resident_by_phone(session, "+8613904761234")
    assert zhang.name == "张桂兰（改）"
    assert zhang.address == "林东镇东城社区3号楼2单元" and zhang.flags == ["advanced_age", "empty_nest"]


def test_reimport_updates_technician_and_officer_by_phone(session):
    run(session, "technicians", "name,phone,skills\n赵志刚,13804761101,1\n")
    run(session, "officers", OFFICERS)
    tech = run(session, "technicians", "name,phone,skills,active\n赵志刚,138-0476-1101,5,离岗\n")
    officer = run(session, "officers", "name,phone,role\n王海燕,+8613804760001,supervisor\n")
    assert (tech.updated, officer.updated) == (1, 1)
    assert counts(session)["Technician"] == 1 and counts(session)["Officer"] == 2
    zhao = technician_by_phone(session, "+8613804761101")
    assert zhao.skill_list == ["emergency"] and zhao.active is False
    assert officer_by_phone(session, "+8613804760001").role == "supervisor"


def test_reimport_rota_updates_tier_without_duplicating(session):
    run(session, "officers", OFFICERS)
    text = "officer_phone,line,tier,starts_at,ends_at\n13804760001,elderly,{tier},2026-12-01 08:00,2026-12-01 20:00\n"
    assert run(session, "rota", text.format(tier=1)).created == 1
    session.commit()
    result = run(session, "rota", text.format(tier=2).replace("2026-12-01 08:00", "2026-12-01T08:00+08:00"))
    assert (result.created, result.updated) == (0, 1)
    assert counts(session)["RotaShift"] == 1 and session.scalar(select(RotaShift.tier)) == 2


# --- errors: all or nothing ------------------------------------------------------------------------

BAD_RESIDENT_ROWS = [
    ("李四,1234", "电话号码无效：1234 / line 3: invalid phone number"),
    ("李四,139 0476 5678,,,95.5,119.39", "纬度”超出范围"),
    ("李四,139 0476 5678,,,abc,119.39", "lat is not a number"),
    ("李四,139 0476 5678,,,43.9,", "lat and lng must both be given"),
    ("李四,139 0476 5678,,,,,,孤寡", "unknown category"),
    ("李四,139 0476 5678,,,,,1958-02-30", "invalid birth_date"),
    (",139 0476 5678", "name is required"),
]


@pytest.mark.parametrize("bad_row, fragment", BAD_RESIDENT_ROWS)
def test_malformed_resident_row_in_the_middle_imports_nothing(session, bad_row, fragment):
    header, first, second = RESIDENTS.splitlines()
    before = counts(session)
    result = run(session, "residents", "\n".join([header, first, bad_row, second]) + "\n")
    assert [e.line for e in result.errors] == [3]
    assert result.errors[0].message.startswith("第3行：") and fragment in result.errors[0].message
    assert (result.created, result.updated) == (0, 0)
    assert counts(session) == before


def test_every_bad_row_is_reported_with_its_line(session):
    text = "name,phone,categories\n甲,13904761231,\n乙,bad,\n丙,13904761233,孤寡\n丁,13904761234,\n"
    result = run(session, "residents", text)
    assert [e.line for e in result.errors] == [3, 4]
    assert counts(session)["Resident"] == 0


def test_missing_required_column_is_named_and_imports_nothing(session):
    result = run(session, "technicians", "name,phone\n赵志刚,13804761101\n")
    assert messages(result) == [(1, '第1行：缺少必需的列“技能”（skills） / line 1: missing required column "skills"')]
    assert counts(session)["Technician"] == 0


def test_rota_with_unknown_officer_imports_nothing(session):
    run(session, "officers", OFFICERS)
    text = ("officer_phone,line,tier,starts_at,ends_at\n"
            "13804760001,elderly,1,2026-12-01 08:00,2026-12-01 20:00\n"
            "13904769876,elderly,1,2026-12-01 08:00,2026-12-01 20:00\n")
    result = run(session, "rota", text)
    assert [e.line for e in result.errors] == [3] and "not a registered officer" in result.errors[0].message
    assert counts(session)["RotaShift"] == 0


def test_rota_ending_before_it_starts_imports_nothing(session):
    run(session, "officers", OFFICERS)
    text = ("officer_phone,line,tier,starts_at,ends_at\n"
            "13804760001,elderly,1,2026-12-01 08:00,2026-12-01 20:00\n"
            "15004760003,child,1,2026-12-01 20:00,2026-12-01 08:00\n")
    result = run(session, "rota", text)
    assert messages(result) == [(3, "第3行：结束时间须晚于开始时间 / line 3: ends_at must be after starts_at")]
    assert counts(session)["RotaShift"] == 0


@pytest.mark.parametrize("cells, fragment", [
    ("13804760001,night,1,2026-12-01 08:00,2026-12-01 20:00", "unknown line"),
    ("13804760001,elderly,0,2026-12-01 08:00,2026-12-01 20:00", "tier must be a whole number"),
    ("13804760001,elderly,1,tomorrow,2026-12-01 20:00", "invalid starts_at"),
    ("13804760001,elderly,1,2026-12-01 08:00,2027-12-01 20:00", "longer than 7 days"),
])
def test_rota_row_with_bad_values_is_rejected(session, cells, fragment):
    run(session, "officers", OFFICERS)
    result = run(session, "rota", f"officer_phone,line,tier,starts_at,ends_at\n{cells}\n")
    assert [e.line for e in result.errors] == [2] and fragment in result.errors[0].message


@pytest.mark.parametrize("kind, text, fragment", [
    ("technicians", "name,phone,skills\n赵志刚,13804761101,cooking\n", 'unknown skill "cooking"'),
    ("technicians", "name,phone,skills\n赵志刚,13804761101,;\n", "skills is required"),
    ("technicians", "name,phone,skills,active\n赵志刚,13804761101,1,maybe\n", 'invalid active "maybe"'),
    ("officers", "name,phone,role\n王海燕,13804760001,boss\n", 'unknown role "boss"'),
])
def test_registry_row_with_unknown_vocabulary_is_rejected(session, kind, text, fragment):
    result = run(session, kind, text)
    assert [e.line for e in result.errors] == [2] and fragment in result.errors[0].message
    assert counts(session)["Technician"] == counts(session)["Officer"] == 0


def test_duplicate_phone_in_file_is_an_error_on_the_later_line(session):
    text = "name,phone\n王海燕,13804760001\n赵建国,15004760003\n李春雷,138 0476 0001\n"
    result = run(session, "officers", text)
    assert messages(result) == [(4, "第4行：电话号码 +86****0001 与第2行重复 / line 4: "
                                    "phone number +86****0001 repeats line 2")]
    assert counts(session)["Officer"] == 0


def test_row_whose_phones_belong_to_different_residents_is_an_error(session):
    run(session, "residents", RESIDENTS)
    result = run(session, "residents", "name,phone\n张桂兰,13904761234;15047682201\n")
    assert [e.line for e in result.errors] == [2] and "belong to different residents" in result.errors[0].message


def test_two_rows_for_the_same_stored_resident_is_an_error(session):
    run(session, "residents", RESIDENTS)
    result = run(session, "residents", "name,phone\n张桂兰,13904761234\n张桂兰,0476-8223344\n")
    assert [e.line for e in result.errors] == [3] and "same resident as line 2" in result.errors[0].message


def test_error_messages_mask_phone_numbers(session):
    result = run(session, "officers", "name,phone\n王海燕,1390476123456789\n")
    assert "1390476123456789" not in result.errors[0].message and "****" in result.errors[0].message


def test_excel_scientific_notation_phone_gets_a_hint(session):
    result = run(session, "officers", "name,phone\n王海燕,1.39048E+10\n")
    assert "scientific notation" in result.errors[0].message


def test_failed_import_leaves_session_and_stored_rows_unchanged(session):
    run(session, "residents", RESIDENTS)
    session.commit()
    text = "name,phone,address\n张桂兰,13904761234,新地址\n坏,bad,\n"
    result = run(session, "residents", text)
    assert not result.ok
    assert not session.new and not session.dirty and not session.deleted
    session.rollback()
    assert resident_by_phone(session, "+8613904761234").address == "林东镇东城社区3号楼2单元"


@pytest.mark.parametrize("text", ["", "\n\n", "name,phone,role\n", "name,phone\n,,\n"])
def test_empty_or_header_only_file_reports_no_data_rows(session, text):
    result = run(session, "officers", text)
    assert [e.message for e in result.errors] == ["文件没有数据行 / no data rows"]


def test_undecodable_bytes_are_rejected_with_a_clear_error(session):
    data = "name,phone\n王海燕,13804760001\n".encode("utf-8") + b"\xff\xfe\xff,13804760002\n"
    result = import_csv(session, "officers", data, SHANGHAI)
    assert [e.line for e in result.errors] == [3] and "UTF-8" in result.errors[0].message
    assert counts(session)["Officer"] == 0


def test_utf16_or_binary_file_is_rejected_as_undecodable(session):
    result = import_csv(session, "officers", "name,phone\n王海燕,13804760001\n".encode("utf-16"), SHANGHAI)
    assert [e.line for e in result.errors] == [1] and "GB18030" in result.errors[0].message


def test_unquoted_comma_that_shifts_cells_is_an_error(session):
    result = run(session, "officers", "name,phone\n王海燕,13804760001,多余,内容\n")
    assert [e.line for e in result.errors] == [2] and "quote text" in result.errors[0].message


def test_unknown_kind_is_a_programming_error(session):
    with pytest.raises(ValueError):
        run(session, "orders", "name\nx\n")


# --- demo --------------------------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)  # 11:00 in Balinzuo


def km(lat1, lng1, lat2, lng2):
    dlat, dlng = math.radians(lat2 - lat1), math.radians(lng2 - lng1)
    h = math.sin(dlat / 2) ** 2 + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlng / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def test_demo_loads_once_and_is_idempotent(session):
    assert load_demo(session, SHANGHAI, NOW) is True
    session.commit()
    loaded = counts(session)
    assert load_demo(session, SHANGHAI, NOW) is False
    assert counts(session) == loaded
    assert loaded["Resident"] == 4 and loaded["Technician"] == 6 and loaded["Officer"] == 3


def test_demo_is_not_loaded_when_a_registry_has_data(session):
    run(session, "officers", OFFICERS)
    assert load_demo(session, SHANGHAI, NOW) is False
    assert counts(session)["Resident"] == 0


def test_demo_constants_name_a_mobile_resident_and_an_active_technician(session):
    load_demo(session, SHANGHAI, NOW)
    resident = resident_by_phone(session, DEMO_RESIDENT_PHONE)
    assert resident.primary_phone == DEMO_RESIDENT_PHONE
    assert any(p.phone.startswith("+86476") for p in resident.phones)  # the landline
    assert technician_by_phone(session, DEMO_TECHNICIAN_PHONE).active


def test_demo_technicians_are_near_the_first_resident_and_one_is_inactive(session):
    load_demo(session, SHANGHAI, NOW)
    home = resident_by_phone(session, DEMO_RESIDENT_PHONE)
    technicians = list(session.scalars(select(Technician)))
    assert all(0.25 <= km(home.lat, home.lng, t.lat, t.lng) <= 6.0 for t in technicians)
    assert sum(not t.active for t in technicians) == 1


@pytest.mark.parametrize("local_hour", [0, 11, 12, 23])
def test_demo_rota_covers_a_week_in_two_tiers_on_both_lines(session, local_hour):
    load_demo(session, SHANGHAI, NOW)
    at = datetime(2026, 12, 1, local_hour, 30, tzinfo=SHANGHAI)
    for day in range(DEMO_ROTA_DAYS):
        for line in ("elderly", "child"):
            tiers = on_duty_tiers(session, line, at + timedelta(days=day))
            assert len(tiers) == 2 and tiers[1][0].role == "supervisor"
    assert on_duty_tiers(session, "elderly", at + timedelta(days=DEMO_ROTA_DAYS)) == []
