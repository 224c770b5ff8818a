"""The reports page: charts drawn as inline SVG, a date filter, a CSV download; child-line figures for duty officers."""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import update

from models import StaffUser
from tests.report_rows import add_cases, add_orders

SVG = "{http://www.w3.org/2000/svg}"
MARCH_APRIL = "/console/reports/?from=2026-03-01&to=2026-04-30"


@pytest.fixture
def rows(db):
    add_orders(db)
    add_cases(db)


@pytest.fixture
def dispatcher(staff, rows):
    return staff.login("dispatcher")


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


def texts(svg: ET.Element) -> list[str]:
    """The visible <text> of a chart."""
    return ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def page(client, url: str = MARCH_APRIL) -> str:
    resp = client.get(url)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def csv_rows(resp) -> list[list[str]]:
    return list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))


def test_the_page_draws_the_orders_per_category_per_month_as_an_svg_chart(dispatcher):
    chart = charts(page(dispatcher))["chart-categories"]
    labels = texts(chart)
    assert {"2026-03", "2026-04"} <= set(labels)
    assert {"生活照料", "家政维修", "精神慰藉", "法律维护", "紧急救援"} <= set(labels)
    assert chart.find(f"{SVG}title").text == "各类服务单（按月）"
    # One bar per non-zero month x category: March 2, April 5.
    assert len([r for r in chart.iter(f"{SVG}rect") if r.get("class") == "bar" and float(r.get("height")) > 0]) == 7


def test_the_page_has_a_chart_for_each_elderly_figure(dispatcher):
    assert {"chart-categories", "chart-on-site", "chart-durations", "chart-escalations",
            "chart-satisfaction"} <= set(charts(page(dispatcher)))


def test_the_summary_line_counts_services_provided(dispatcher):
    html = page(dispatcher)
    line = re.search(r'id="summary-line">(.*?)</p>', html, re.S).group(1)
    # O1..O5 completed in March-April; seven ever (plus O0 and O10).
    assert "2026-03-01至2026-04-30为居家老年人提供服务5人次" in line
    assert "累计为居家老年人提供服务7人次" in line


def test_the_date_filter_changes_the_figures(dispatcher):
    march = page(dispatcher, "/console/reports/?from=2026-03-01&to=2026-03-31")
    assert 'id="report-from" name="from" value="2026-03-01"' in march
    assert "2026-04" not in texts(charts(march)["chart-categories"])
    assert "为居家老年人提供服务3人次" in march         # O1..O3
    assert "50.0%" in page(dispatcher)                # March-April: 4 of 8 on site within 15 minutes
    assert "66.7%" in march                           # March: O1, O2 of O1..O3


def test_the_default_range_is_the_last_twelve_months(dispatcher):
    html = page(dispatcher, "/console/reports/")
    assert len(texts(charts(html)["chart-categories"])) > 12
    assert len(re.findall(r'<text class="label"', html.split('id="chart-categories"')[1].split("</svg>")[0])) == 12


def test_bad_dates_give_a_message_and_the_default_range(dispatcher):
    html = page(dispatcher, "/console/reports/?from=2026-02-30&to=2026-04-30")
    assert "日期格式应为" in html
    default = page(dispatcher, "/console/reports/")
    value = re.search(r'id="report-from" name="from" value="([^"]+)"', default).group(1)
    assert f'id="report-from" name="from" value="{value}"' in html


def test_a_reversed_range_is_refused_with_a_message(dispatcher):
    assert "开始日期晚于结束日期" in page(dispatcher, "/console/reports/?from=2026-05-01&to=2026-03-01")


def test_the_csv_link_carries_the_range(dispatcher):
    assert 'id="report-csv"' in page(dispatcher)
    assert re.search(r'id="report-csv"[^>]*href="/console/reports/export.csv\?from=2026-03-01&amp;to=2026-04-30"',
                     page(dispatcher), re.S)


def test_the_csv_export_is_utf8_with_a_bom_named_for_its_range(dispatcher):
    resp = dispatcher.get("/console/reports/export.csv?from=2026-03-01&to=2026-04-30")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.get_data().startswith("\ufeff".encode("utf-8"))
    assert 'filename="hotline-report-2026-03-01_2026-04-30.csv"' in resp.headers["Content-Disposition"]


def test_the_csv_has_one_section_per_figure(dispatcher):
    rows = csv_rows(dispatcher.get("/console/reports/export.csv?from=2026-03-01&to=2026-04-30"))
    assert rows[0] == ["统计报表", "2026-03-01", "2026-04-30"]
    assert "累计为居家老年人提供服务7人次" in rows[1][0]
    start = rows.index(["各类服务单（按月）"])
    assert rows[start + 1] == ["月份", "生活照料", "家政维修", "精神慰藉", "法律维护", "紧急救援", "合计"]
    assert rows[start + 2] == ["2026-03", "1", "2", "0", "0", "0", "3"]
    assert rows[start + 3] == ["2026-04", "2", "1", "1", "1", "1", "6"]
    durations = rows.index(["响应时长（分钟）"])
    assert rows[durations + 2] == ["接单", "7", "4", "10.8"]
    escalations = rows.index(["升级单（无人接单转人工派单）"])
    assert rows[escalations + 1:escalations + 5] == [["月份", "升级单数"], ["2026-03", "0"], ["2026-04", "2"],
                                                      ["合计", "2"]]
    assert ["满意", "1"] in rows and ["已回访未评价", "1"] in rows


def test_a_dispatcher_does_not_see_child_line_figures(dispatcher):
    html = page(dispatcher)
    assert "chart-child" not in html and "未保热线来电" not in html
    rows = csv_rows(dispatcher.get("/console/reports/export.csv?from=2026-03-01&to=2026-04-30"))
    assert ["未保热线来电"] not in rows


def test_a_duty_officer_sees_child_line_calls_and_time_to_acknowledge(officer):
    html = page(officer)
    chart = charts(html)["chart-child"]
    assert {"已接听: 1 (16.7%)", "留言: 2 (33.3%)", "未接: 2 (33.3%)"} <= set(texts(chart))
    rows = csv_rows(officer.get("/console/reports/export.csv?from=2026-03-01&to=2026-04-30"))
    assert ["确认时长中位数（分钟）", "12"] in rows


def test_an_admin_sees_child_line_figures_too(staff, rows):
    assert "chart-child" in page(staff.login("admin"))


def test_the_page_switches_to_english(dispatcher):
    html = page(dispatcher, MARCH_APRIL + "&lang=en")
    assert "Orders per category per month" in html
    assert {"daily care", "housekeeping"} <= set(texts(charts(html)["chart-categories"]))


def test_a_visitor_is_sent_to_the_login_page(client):
    for url in ("/console/reports/", "/console/reports/export.csv"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]


def test_a_deactivated_dispatcher_is_refused(dispatcher, db):
    db.execute(update(StaffUser).where(StaffUser.username == "dispatcher-user").values(active=False))
    db.commit()
    assert dispatcher.get("/console/reports/export.csv").status_code == 302
