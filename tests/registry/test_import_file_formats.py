"""Registry CSV import reads the files people really have: encodings, Chinese headers, phone and date forms."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from hotline.registry.importer import import_csv
from models import Officer, Resident, officer_by_phone, resident_by_phone
from tests.registry.import_helpers import (
    RESIDENTS,
    SHANGHAI,
    run,
    session,  # noqa: F401 - fixtures
)

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
