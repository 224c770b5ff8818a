"""The case-worker registry file (儿童主任 / 儿童督导员 / partners): the same all-or-nothing importer as the others."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hotline.registry.importer import import_csv
from models import CaseWorker

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKERS = """\
姓名,电话,角色,乡镇,村,在岗
李梅,138 0476 3001,儿童主任,林东镇,东城村,是
王强,138 0476 3002,儿童督导员,林东镇,,
林东镇中心小学,0476-7223001,学校,林东镇,,
"""


def run(db, text: str, encoding: str = "utf-8"):
    return import_csv(db, "case_workers", text.encode(encoding), SHANGHAI)


def workers(db) -> list[tuple]:
    return [(w.name, w.phone, w.role, w.township, w.village, w.active)
            for w in db.scalars(select(CaseWorker).order_by(CaseWorker.id))]


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(CaseWorker))


def messages(result) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in result.errors]


def test_import_creates_workers_with_roles_places_and_numbers_in_e164(db):
    result = run(db, WORKERS)
    assert (result.ok, result.created, result.updated) == (True, 3, 0)
    assert workers(db) == [("李梅", "+8613804763001", "child_director", "林东镇", "东城村", True),
                           ("王强", "+8613804763002", "child_supervisor", "林东镇", "", True),
                           ("林东镇中心小学", "+864767223001", "school", "林东镇", "", True)]


def test_role_codes_are_accepted_as_well_as_the_chinese_names(db):
    text = ("name,phone,role,township,village\nA,13804763011,child_director,林东镇,一村\n"
            "B,13804763012,hospital,,\nC,13804763013,法律援助,,\nD,13804763014,心理辅导,,\n"
            "E,13804763015,counselling,,\nF,13804763016,legal_aid,,\n")
    assert run(db, text).ok
    assert [w[2] for w in workers(db)] == ["child_director", "hospital", "legal_aid", "counselling", "counselling",
                                            "legal_aid"]


def test_a_gb18030_file_as_chinese_excel_saves_it_is_read(db):
    assert run(db, WORKERS, encoding="gb18030").created == 3


def test_a_second_import_updates_workers_matched_by_phone(db):
    run(db, WORKERS)
    result = run(db, "姓名,电话,角色,乡镇,村,在岗\n李梅,13804763001,儿童主任,林东镇,西城村,否\n")
    assert (result.created, result.updated) == (0, 1)
    assert workers(db)[0] == ("李梅", "+8613804763001", "child_director", "林东镇", "西城村", False)


def test_an_inactive_worker_imported_again_as_active_is_switched_back_on(db):
    run(db, "姓名,电话,角色,乡镇,村,在岗\n李梅,13804763001,儿童主任,林东镇,东城村,否\n")
    result = run(db, "姓名,电话,角色,乡镇,村,在岗\n李梅,13804763001,儿童主任,林东镇,东城村,是\n")
    assert (result.created, result.updated, workers(db)[0][5]) == (0, 1, True)


def test_an_unknown_role_is_refused_by_line_and_nothing_is_imported(db):
    result = run(db, WORKERS + "赵六,13804763009,村医,林东镇,东城村,\n")
    assert not result.ok and count(db) == 0
    [(line, text)] = messages(result)
    assert line == 5 and "未知角色" in text and "unknown role" in text


def test_a_child_director_without_a_village_is_refused(db):
    result = run(db, "姓名,电话,角色,乡镇,村\n李梅,13804763001,儿童主任,林东镇,\n")
    assert messages(result) == [(2, "第2行：儿童主任须填写所在村 / line 2: a child_director needs a village")]
    assert count(db) == 0


def test_a_child_supervisor_without_a_township_is_refused(db):
    result = run(db, "姓名,电话,角色,乡镇\n王强,13804763002,儿童督导员,\n")
    assert [line for line, _ in messages(result)] == [2] and count(db) == 0


def test_a_missing_required_column_is_refused(db):
    result = run(db, "姓名,电话,乡镇\n李梅,13804763001,林东镇\n")
    assert [line for line, _ in messages(result)] == [1] and "角色" in messages(result)[0][1]


def test_an_invalid_number_is_reported_masked_and_nothing_is_imported(db):
    result = run(db, WORKERS + "赵六,12345,学校,林东镇,,\n")
    [(line, text)] = messages(result)
    assert line == 5 and "电话号码无效" in text and count(db) == 0


def test_a_number_twice_in_the_file_is_refused(db):
    result = run(db, WORKERS + "李梅二,138 0476 3001,儿童主任,林东镇,西城村,\n")
    assert [line for line, _ in messages(result)] == [5] and count(db) == 0


def test_every_bad_row_is_listed_at_once(db):
    result = run(db, "name,phone,role,township,village\n,13804763001,学校,,\nB,x,学校,,\nC,13804763003,?,,\n")
    assert [line for line, _ in messages(result)] == [2, 3, 4]


def test_an_over_long_name_is_refused(db):
    result = run(db, f"name,phone,role,township\n{'名' * 101},13804763001,学校,林东镇\n")
    assert [line for line, _ in messages(result)] == [2] and count(db) == 0


def test_the_cli_imports_case_workers(runner, tmp_path, db):
    path = tmp_path / "workers.csv"
    path.write_text(WORKERS, encoding="utf-8")
    result = runner.invoke(args=["import-csv", "case_workers", str(path)])
    assert result.exit_code == 0, result.output
    assert "case_workers: 3 created, 0 updated" in result.output
    assert count(db) == 3


def test_the_cli_refuses_a_bad_file_and_imports_nothing(runner, tmp_path, db):
    path = tmp_path / "workers.csv"
    path.write_text(WORKERS + "赵六,13804763009,村医,林东镇,东城村,\n", encoding="utf-8")
    result = runner.invoke(args=["import-csv", "case_workers", str(path)])
    assert result.exit_code == 1 and count(db) == 0
