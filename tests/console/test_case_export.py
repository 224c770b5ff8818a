"""The case export: duty officers and admins; no names, numbers or free text unless an admin gives a reason;
every case exported is access-logged; bad filters export and log nothing."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import AccessLog, Case, CaseCategory, CaseChild, utcnow

CALLER = "+8613904761234"
CHILD = "李小花"
VILLAGE = "前进村"
SCHOOL = "林东第一小学"
SUMMARY = "孩子说父亲经常打她"
EXPORT = "/console/cases/export.csv"
IDENTIFIED = "/console/cases/export-identified.csv"


def make_case(db, code: str, *, risk: str = "urgent", category: str = "violence", days_ago: int = 0,
              name: str = CHILD) -> Case:
    case = Case(code=code, status="closed", caller=CALLER, call_sid="CA" + code.rjust(32, "0"),
                created_at=utcnow() - timedelta(days=days_ago), contact_type="child_self", risk_level=risk,
                summary=SUMMARY, note="已转介", closed_at=utcnow())
    case.children.append(CaseChild(name=name, sex="female", age=9, township="林东镇", village=VILLAGE,
                                   school=SCHOOL))
    case.categories.append(CaseCategory(category=category, sub="physical" if category == "violence" else ""))
    db.add(case)
    db.commit()
    return case


def rows_of(resp) -> list[list[str]]:
    data = resp.get_data()
    assert data.startswith("\ufeff".encode()), "no UTF-8 BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def export_rows(db) -> list[AccessLog]:
    db.expire_all()
    return list(db.scalars(select(AccessLog).where(AccessLog.action.like("export%")).order_by(AccessLog.id)))


def log_count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count(AccessLog.id)))


@pytest.fixture
def cases(db):
    return [make_case(db, "100001"), make_case(db, "100002", risk="critical", category="mental_health")]


# --- who may export ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["duty_officer", "admin"])
def test_duty_officers_and_admins_may_export(staff, cases, role):
    client = staff.login(role)
    assert client.get("/console/cases/export").status_code == 200
    resp = client.get(EXPORT)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert [row[0] for row in rows_of(resp)[1:]] == ["100001", "100002"]


def test_a_dispatcher_may_not_export(staff, db, cases):
    client = staff.login("dispatcher")
    assert client.get("/console/cases/export").status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert log_count(db) == 0


def test_a_visitor_is_sent_to_sign_in(client, db, cases):
    resp = client.get(EXPORT)
    assert resp.status_code == 302 and "/console/login" in resp.location
    assert log_count(db) == 0


@pytest.mark.parametrize("role", ["duty_officer", "dispatcher"])
def test_only_an_admin_may_export_identities(staff, db, cases, role):
    client = staff.login(role)
    resp = client.post(IDENTIFIED, data={"csrf_token": client.csrf, "reason": "法院调取"})
    assert resp.status_code == 403
    assert CHILD not in resp.get_data(as_text=True) and log_count(db) == 0


def test_a_visitor_may_not_export_identities(client, db, cases):
    resp = client.post(IDENTIFIED, data={"reason": "法院调取"})
    assert resp.status_code in (400, 401, 403) or "/console/login" in (resp.location or "")
    assert log_count(db) == 0


def test_only_admins_see_the_identified_form(staff, cases):
    assert "case-export-identified" not in staff.login("duty_officer").get("/console/cases/export").get_data(
        as_text=True)
    assert "case-export-identified" in staff.login("admin").get("/console/cases/export").get_data(as_text=True)


# --- what a row carries -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["duty_officer", "admin"])
def test_the_plain_export_has_no_names_numbers_places_or_free_text(staff, cases, role):
    text = staff.login(role).get(EXPORT).get_data(as_text=True)
    for private in (CHILD, CALLER, "13904761234", VILLAGE, SCHOOL, SUMMARY, "已转介"):
        assert private not in text


def test_the_plain_export_has_the_statistics(staff, cases):
    header, first, _ = rows_of(staff.login("duty_officer").get(EXPORT))
    row = dict(zip(header, first))
    assert row["个案号"] == "100001" and row["状态"] == "已结案"
    assert (row["来电类型"], row["风险等级"]) == ("儿童本人求助", "紧急")
    assert "身体暴力" in row["类别"]
    assert (row["儿童人数"], row["年龄"], row["性别"], row["乡镇"]) == ("1", "9", "女", "林东镇")


def test_an_admin_with_a_reason_gets_names_numbers_and_summary(staff, cases):
    client = staff.login("admin")
    resp = client.post(IDENTIFIED, data={"csrf_token": client.csrf, "reason": "法院调取"})
    header, first, _ = rows_of(resp)
    row = dict(zip(header, first))
    # "+86..." would start a formula: the apostrophe makes it text (Excel shows the number without it).
    assert (row["来电号码"], row["儿童姓名"], row["村"], row["学校"], row["摘要"]) == (
        "'" + CALLER, CHILD, VILLAGE, SCHOOL, SUMMARY)


@pytest.mark.parametrize("reason", ["", "   ", "长" * 501], ids=["empty", "blank", "too-long"])
def test_an_admin_without_a_reason_gets_nothing(staff, db, cases, reason):
    client = staff.login("admin")
    resp = client.post(IDENTIFIED, data={"csrf_token": client.csrf, "reason": reason})
    assert resp.status_code == 303 and "/console/cases/export" in resp.location
    assert CHILD not in resp.get_data(as_text=True)
    assert export_rows(db) == []


def test_a_name_that_looks_like_a_formula_is_not_run(staff, db):
    make_case(db, "100003", name="=HYPERLINK(\"http://x\")")
    client = staff.login("admin")
    header, row = rows_of(client.post(IDENTIFIED, data={"csrf_token": client.csrf, "reason": "核对"}))
    assert dict(zip(header, row))["儿童姓名"].startswith("'=")


def test_english_headers_for_an_english_console(staff, cases):
    client = staff.login("duty_officer")
    client.get("/console/cases/export?lang=en")
    assert rows_of(client.get(EXPORT))[0][:2] == ["Case", "Called at"]


# --- filters --------------------------------------------------------------------------------------------------

def test_the_export_follows_the_filters(staff, cases):
    client = staff.login("duty_officer")
    assert [r[0] for r in rows_of(client.get(EXPORT + "?risk=critical"))[1:]] == ["100002"]
    assert [r[0] for r in rows_of(client.get(EXPORT + "?category=violence"))[1:]] == ["100001"]


def test_the_date_range_filters_by_call_day(staff, db, cases):
    make_case(db, "100004", days_ago=40)
    day = (utcnow() - timedelta(days=40)).date()
    client = staff.login("duty_officer")
    rows = rows_of(client.get(f"{EXPORT}?from={day - timedelta(days=1)}&to={day + timedelta(days=1)}"))
    assert [r[0] for r in rows[1:]] == ["100004"]


@pytest.mark.parametrize("query", ["status=bogus", "risk=%E5%8D%B1", "category=x", "from=2026-02-30", "to=soon"])
def test_a_bad_filter_exports_and_logs_nothing(staff, db, cases, query):
    resp = staff.login("duty_officer").get(f"{EXPORT}?{query}")
    assert resp.status_code == 400 and "无效" in resp.get_data(as_text=True)
    assert log_count(db) == 0


# --- the access log -----------------------------------------------------------------------------------------

def test_every_case_exported_writes_one_export_row(staff, db, cases):
    staff.login("duty_officer", "li").get(EXPORT + "?risk=urgent")
    rows = export_rows(db)
    assert [(r.actor, r.case_id, r.action, r.reason) for r in rows] == [("li", cases[0].id, "export", "")]
    assert rows[0].route == EXPORT


def test_an_identified_export_logs_the_reason_per_case(staff, db, cases):
    client = staff.login("admin", "boss")
    client.post(IDENTIFIED, data={"csrf_token": client.csrf, "reason": "法院调取"})
    assert [(r.actor, r.case_id, r.action, r.reason) for r in export_rows(db)] == [
        ("boss", cases[0].id, "export-identified", "法院调取"), ("boss", cases[1].id, "export-identified", "法院调取")]


def test_the_access_log_page_names_export_actions_in_chinese(staff, cases):
    staff.login("duty_officer").get(EXPORT)
    page = staff.login("admin").get("/console/audit/").get_data(as_text=True)
    assert "导出（不含身份信息）" in page
