"""The child-line casework report page and its CSV: duty officers and admins only, access-logged, aggregates only.

Figures come from the hand-built cases of tests/casework_report_rows.py (checked by hand in
tests/reports/test_casework_reports.py); here only those that do not depend on the time of the request.
"""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from models import AccessLog
from tests.casework_report_rows import CALLER, CHILD, add_casework

PAGE = "/console/reports/child/"
CSV = "/console/reports/child/export.csv"
RANGE = "?from=2026-03-01&to=2026-04-30"
ROUTES = (PAGE, CSV)


@pytest.fixture
def rows(db):
    add_casework(db)


@pytest.fixture
def officer(staff, rows):
    return staff.login("duty_officer")


def charts(html: str) -> dict[str, ET.Element]:
    """Every inline <svg class="chart"> of a page, parsed as XML (so each must be well formed), by id."""
    found = {}
    for text in re.findall(r"<svg .*?</svg>", html, re.S):
        svg = ET.fromstring(text)
        if "chart" in svg.get("class", "").split():
            found[svg.get("id")] = svg
    return found


def csv_rows(resp) -> list[list[str]]:
    return list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))


def access_rows(db) -> list[AccessLog]:
    db.expire_all()
    return list(db.scalars(select(AccessLog).order_by(AccessLog.id)))


@pytest.mark.parametrize("route", ROUTES)
def test_a_duty_officer_may_use_the_report(officer, route):
    assert officer.get(route + RANGE).status_code == 200


@pytest.mark.parametrize("route", ROUTES)
def test_an_admin_may_use_the_report(staff, rows, route):
    assert staff.login("admin").get(route + RANGE).status_code == 200


@pytest.mark.parametrize("route", ROUTES)
def test_a_dispatcher_is_forbidden_and_nothing_is_logged(staff, rows, db, route):
    resp = staff.login("dispatcher").get(route + RANGE)
    assert resp.status_code == 403
    assert "20秒内接听" not in resp.get_data(as_text=True)
    assert access_rows(db) == []


@pytest.mark.parametrize("route", ROUTES)
def test_a_visitor_is_sent_to_the_login_page(client, rows, db, route):
    resp = client.get(route + RANGE)
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]
    assert access_rows(db) == []


def test_viewing_the_report_writes_one_access_log_row_about_no_one_case(officer, db):
    officer.get(PAGE + RANGE)
    [row] = access_rows(db)
    assert (row.actor, row.action, row.case_id, row.route) == ("duty_officer-user", "report", None, PAGE)


def test_exporting_the_report_writes_an_export_report_row(officer, db):
    officer.get(CSV + RANGE)
    [row] = access_rows(db)
    assert (row.action, row.case_id, row.route) == ("export-report", None, CSV)


def test_the_page_draws_every_figure_as_a_server_drawn_svg_chart(officer):
    html = officer.get(PAGE + RANGE).get_data(as_text=True)
    assert set(charts(html)) == {"chart-contact_types", "chart-categories", "chart-answer", "chart-follow-up",
                                 "chart-durations", "chart-police", "chart-tasks", "chart-deadlines"}
    content = html.split("<main>")[1]
    assert "<script" not in content and "cdn" not in content.lower()


def test_the_page_shows_answering_within_20_and_60_seconds(officer):
    html = officer.get(PAGE + RANGE).get_data(as_text=True)
    table = html.split('id="figures-answer"')[1].split("</table>")[0]
    # 2 of 8 calls within 20 s, 3 within 60 s.
    assert re.search(r"20秒内接听</th><td>2</td><td>25.0%</td>", table)
    assert re.search(r"60秒内接听</th><td>3</td><td>37.5%</td>", table)


def test_the_page_says_a_case_in_two_categories_counts_in_both(officer):
    html = officer.get(PAGE + RANGE).get_data(as_text=True)
    assert "两类各计一次" in html


def test_the_csv_is_utf8_with_a_bom_named_for_its_range(officer):
    resp = officer.get(CSV + RANGE)
    assert resp.mimetype == "text/csv"
    assert resp.get_data().startswith("\ufeff".encode("utf-8"))
    assert 'filename="hotline-casework-report-2026-03-01_2026-04-30.csv"' in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-store"


def test_the_csv_has_the_figures_per_section(officer):
    rows = csv_rows(officer.get(CSV + RANGE))
    assert rows[0] == ["未保个案工作报表", "2026-03-01", "2026-04-30"]
    types = rows.index(["各类来电（按月）"])
    assert rows[types + 1] == ["月份", "儿童本人求助", "成年人反映儿童情况", "无声来电", "接通即挂断", "骚扰或辱骂",
                               "打错电话", "仅咨询信息", "未登记", "计入的求助"]
    assert rows[types + 2] == ["2026-03", "2", "1", "1", "0", "0", "0", "0", "0", "3"]
    assert rows[types + 3] == ["2026-04", "1", "1", "0", "0", "0", "0", "1", "1", "2"]
    categories = rows.index(["求助问题分类（按月，一级分类）"])
    head = rows[categories + 1]
    assert head[0] == "月份" and head[-1] == "有分类的个案"
    april = dict(zip(head, rows[categories + 3]))
    assert (april["暴力侵害"], april["失踪或离家出走"], april["有分类的个案"]) == ("2", "1", "2")
    assert ["接听前挂断（未接）", "2", "25.0%"] in rows
    assert ["来电至回拨", "3", "30", "54"] in rows          # [10, 30, 60] minutes
    assert ["登记至报警", "3", "30", "78"] in rows          # [15, 30, 90] minutes
    assert ["需报告但尚未报告", "1"] in rows


def test_the_csv_carries_no_names_numbers_or_case_codes(officer):
    text = officer.get(CSV + RANGE).get_data().decode("utf-8-sig")
    assert CHILD not in text
    assert CALLER not in text and CALLER[3:] not in text and CALLER[-4:] not in text
    assert not re.search(r"\bA[0-9]\b", text)


def test_no_csv_cell_could_run_as_a_formula(officer):
    cells = [cell for row in csv_rows(officer.get(CSV + RANGE)) for cell in row]
    assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@")]


def test_bad_dates_give_a_message_and_the_default_range(officer):
    html = officer.get(PAGE + "?from=2026-02-30&to=2026-04-30").get_data(as_text=True)
    assert "日期格式应为" in html


def test_the_page_switches_to_english(officer):
    html = officer.get(PAGE + RANGE + "&lang=en").get_data(as_text=True)
    assert "Child-line casework report" in html and "Answered within 20 s" in html
    assert "Child about themself" in html


def test_the_reports_page_links_to_the_casework_report_for_duty_officers_only(officer, staff):
    assert 'id="case-reports-link"' in officer.get("/console/reports/" + RANGE).get_data(as_text=True)
    dispatcher_page = staff.login("dispatcher").get("/console/reports/" + RANGE).get_data(as_text=True)
    assert 'id="case-reports-link"' not in dispatcher_page


def test_the_access_log_page_names_report_views_and_exports_in_chinese(officer, staff):
    officer.get(PAGE + RANGE)
    officer.get(CSV + RANGE)
    html = staff.login("admin").get("/console/audit/").get_data(as_text=True)
    assert "查看未保个案工作报表" in html and "导出未保个案工作报表" in html


def test_the_default_range_over_the_demo_data_is_the_last_twelve_months(staff, demo):
    html = staff.login("duty_officer").get(PAGE).get_data(as_text=True)
    labels = charts(html)["chart-contact_types"].iter("{http://www.w3.org/2000/svg}text")
    assert len([t for t in labels if t.get("class") == "label"]) == 12
