"""Registry CSV import is all or nothing: every bad row is named with its line, masked, and nothing is stored."""
from __future__ import annotations

import pytest

from hotline.registry.importer import import_csv
from models import resident_by_phone
from tests.registry.import_helpers import (
    OFFICERS,
    RESIDENTS,
    SHANGHAI,
    counts,
    run,
    session,  # noqa: F401 - fixtures
)


def messages(result):
    return [(e.line, e.message) for e in result.errors]


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
