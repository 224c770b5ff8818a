"""The import page: the same CSV files and checks as `flask import-csv`; errors by line, nothing partial."""
from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import func, select

from models import AccessLog, Officer, Resident, RotaShift, Technician

RESIDENTS = """\
姓名,电话,地址,社区
张桂兰,139 0476 1234,林东镇东城社区3号楼2单元,东城社区
王凤英,150 4768 2201,林东镇西城社区7号楼1单元,西城社区
"""
BAD_ROW_ON_LINE_3 = """\
name,phone
张桂兰,139 0476 1234
王凤英,not-a-number
李秀珍,150 4768 2202
"""
OFFICERS = "name,phone,role\n王海燕,138 0476 0001,\n赵建国,150 0476 0003,主管\n"
ROTA = "officer_phone,line,tier,starts_at,ends_at\n15004760003,儿童,2,2026-12-01 08:00,2026-12-02 08:00\n"


def upload(client, kind: str | None, data: bytes | None, filename: str = "file.csv", csrf: bool = True):
    form = {"csrf_token": client.csrf} if csrf else {}
    if kind is not None:
        form["kind"] = kind
    if data is not None:
        form["file"] = (io.BytesIO(data), filename)
    return client.post("/console/import/", data=form, content_type="multipart/form-data")


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


@pytest.fixture
def dispatcher(staff):
    return staff.login("dispatcher", "wang")


def test_import_form_has_the_kind_file_and_submit_controls(dispatcher):
    html = dispatcher.get("/console/import/").get_data(as_text=True)
    for element in ('<select name="kind" id="import-kind"', 'id="import-file"', 'id="import-submit"'):
        assert element in html
    assert 'value="residents"' in html and 'value="technicians"' in html


def test_a_dispatcher_is_offered_only_residents_and_technicians(dispatcher):
    html = dispatcher.get("/console/import/").get_data(as_text=True)
    assert 'value="officers"' not in html and 'value="rota"' not in html


def test_a_dispatcher_may_not_import_officers(dispatcher, db):
    resp = upload(dispatcher, "officers", OFFICERS.encode())
    assert resp.status_code == 403 and count(db, Officer) == 0


def test_a_dispatcher_may_not_import_the_rota(staff, dispatcher, db):
    assert upload(staff.login("admin"), "officers", OFFICERS.encode()).status_code == 200
    resp = upload(dispatcher, "rota", ROTA.encode())
    assert resp.status_code == 403 and count(db, RotaShift) == 0


def test_an_admin_is_offered_every_kind(staff):
    html = staff.login("admin").get("/console/import/").get_data(as_text=True)
    assert all(f'value="{kind}"' in html for kind in ("residents", "technicians", "officers", "rota"))


def test_an_admin_may_import_officers(staff, db):
    resp = upload(staff.login("admin"), "officers", OFFICERS.encode())
    assert resp.status_code == 200 and count(db, Officer) == 2


def test_a_good_file_is_imported_and_its_counts_shown(dispatcher, db):
    resp = upload(dispatcher, "residents", RESIDENTS.encode())
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="import-result"' in html and 'data-created="2" data-updated="0"' in html
    assert "新增2条，更新0条" in html and 'id="import-errors"' not in html
    assert count(db, Resident) == 2


def test_a_file_with_one_bad_row_imports_nothing_and_lists_that_line(dispatcher, db):
    resp = upload(dispatcher, "residents", BAD_ROW_ON_LINE_3.encode())
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert '<ul id="import-errors">' in html
    assert html.count("<li data-line=") == 1 and '<li data-line="3">第3行' in html
    assert 'id="import-result"' not in html
    assert count(db, Resident) == 0


def test_a_gb18030_file_from_chinese_excel_is_accepted(dispatcher, db):
    resp = upload(dispatcher, "residents", RESIDENTS.encode("gb18030"))
    assert resp.status_code == 200 and 'data-created="2"' in resp.get_data(as_text=True)
    db.expire_all()
    assert sorted(db.scalars(select(Resident.name))) == sorted(["张桂兰", "王凤英"])


def test_reimporting_the_same_file_updates_instead_of_duplicating(dispatcher, db):
    upload(dispatcher, "residents", RESIDENTS.encode())
    html = upload(dispatcher, "residents", RESIDENTS.encode()).get_data(as_text=True)
    assert 'data-created="0" data-updated="2"' in html and count(db, Resident) == 2


@pytest.mark.parametrize("kind, data, filename, message", [
    ("residents", None, "", "请选择要上传的 CSV 文件"),
    ("residents", b"", "empty.csv", "文件是空的"),
    ("residents", b"\n\n  \n", "blank.csv", "/"),  # the importer's own whole-file message
    ("pets", RESIDENTS.encode(), "file.csv", "请选择要导入的类型"),
    (None, RESIDENTS.encode(), "file.csv", "请选择要导入的类型"),
], ids=["no-file", "empty", "blank-lines", "wrong-kind", "no-kind"])
def test_unusable_upload_gets_a_clear_message_and_imports_nothing(dispatcher, db, kind, data, filename, message):
    resp = upload(dispatcher, kind, data, filename)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert '<ul id="import-errors">' in html and message in html
    assert count(db, Resident) == 0


def test_an_oversize_file_is_refused_and_imports_nothing(dispatcher, db):
    big = RESIDENTS.encode() + b"#" * (5 * 1024 * 1024)
    resp = upload(dispatcher, "residents", big)
    assert resp.status_code == 400 and "文件超过5 MB" in resp.get_data(as_text=True)
    assert count(db, Resident) == 0


def test_without_the_csrf_token_the_upload_is_400_and_imports_nothing(dispatcher, db):
    resp = upload(dispatcher, "residents", RESIDENTS.encode(), csrf=False)
    assert resp.status_code == 400
    assert count(db, Resident) == 0


def test_duty_officer_may_import_officers(staff, db):
    client = staff.login("duty_officer")
    resp = upload(client, "officers", OFFICERS.encode())
    assert resp.status_code == 200 and count(db, Officer) == 2


def test_duty_officer_may_import_the_rota(staff, db):
    client = staff.login("duty_officer")
    upload(client, "officers", OFFICERS.encode())
    resp = upload(client, "rota", ROTA.encode())
    assert resp.status_code == 200 and count(db, RotaShift) == 1


def test_duty_officer_may_not_import_residents(staff, db):
    client = staff.login("duty_officer")
    assert 'value="residents"' not in client.get("/console/import/").get_data(as_text=True)
    resp = upload(client, "residents", RESIDENTS.encode())
    assert resp.status_code == 403 and count(db, Resident) == 0


def test_duty_officer_may_not_import_technicians(staff, db):
    client = staff.login("duty_officer")
    assert 'value="technicians"' not in client.get("/console/import/").get_data(as_text=True)
    resp = upload(client, "technicians", "name,phone,skills\n李师傅,13800001234,housekeeping\n".encode())
    assert resp.status_code == 403 and count(db, Technician) == 0


def test_an_import_is_recorded_with_who_kind_and_counts_and_no_phone_numbers(dispatcher, db, caplog):
    with caplog.at_level(logging.INFO):
        upload(dispatcher, "residents", RESIDENTS.encode(), filename="居民 13904761234.csv")
    db.expire_all()
    [row] = db.scalars(select(AccessLog)).all()
    assert (row.actor, row.action, row.case_id) == ("wang", "import", None)
    assert row.reason.startswith("residents: 2 created, 0 updated") and "13904761234" not in row.reason
    assert any("import by wang" in r.getMessage() for r in caplog.records)
    assert "13904761234" not in caplog.text and "15047682201" not in caplog.text


def test_a_refused_import_is_logged_without_its_rows(dispatcher, caplog):
    with caplog.at_level(logging.INFO):
        upload(dispatcher, "residents", BAD_ROW_ON_LINE_3.encode())
    assert "refused" in caplog.text and "13904761234" not in caplog.text and "not-a-number" not in caplog.text
