"""The settlement pages: who may use them, the statement of a hand-checked month (tests/settlement_rows.py),
clearing, closing, the CSV and the printable page with the amount in capitals."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Statement, StatementStatus, Visit, utcnow
from tests.settlement_rows import TZ, load_month

OCT = "2026-10"


@pytest.fixture
def month(db):
    return load_month(db)


def _page(client, month, short="甲", when=OCT):
    return client.get(f"/console/settlement/provider/{month.providers[short].id}?month={when}")


def _statement(db, month, short="甲"):
    db.expire_all()
    return db.scalar(select(Statement).where(Statement.provider_id == month.providers[short].id))


def _routes(db, client, month):
    _page(client, month)
    statement_id = _statement(db, month).id
    return [("GET", "/console/settlement/"), ("GET", f"/console/settlement/provider/{month.providers['甲'].id}"),
            ("GET", f"/console/settlement/statement/{statement_id}/export.csv"),
            ("GET", f"/console/settlement/statement/{statement_id}/print"),
            ("POST", f"/console/settlement/statement/{statement_id}/clear"),
            ("POST", f"/console/settlement/statement/{statement_id}/close"),
            ("GET", "/console/reports/services/"), ("GET", "/console/reports/services/export.csv")]


@pytest.mark.parametrize("role", ["admin", "dispatcher"])
def test_bureau_staff_may_open_every_settlement_page(db, staff, month, role):
    client = staff.login(role)
    for method, path in _routes(db, client, month):
        if method == "GET":
            assert client.get(path).status_code == 200, path


def test_a_duty_officer_is_refused_every_settlement_route_and_changes_nothing(db, staff, month):
    client = staff.login("duty_officer")
    routes = _routes(db, staff.login("dispatcher", "arranger"), month)
    for method, path in routes:
        resp = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": client.csrf})
        assert resp.status_code == 403, path
    assert _statement(db, month).status == StatementStatus.OPEN


def test_a_visitor_is_sent_to_sign_in_on_every_settlement_route(db, app, staff, month):
    visitor = app.test_client()
    for method, path in _routes(db, staff.login("dispatcher"), month):
        resp = visitor.get(path) if method == "GET" else visitor.post(path)
        assert resp.status_code in (302, 400), path
        assert resp.status_code == 400 or "/console/login" in resp.location


def test_the_statement_shows_the_months_totals_and_lines_apart(staff, month):
    html = _page(staff.login("dispatcher"), month).get_data(as_text=True)
    assert 'id="total-visits">5<' in html
    assert "175.00元" in html and "37.50元" in html and "117.50元" in html
    assert "壹佰壹拾柒元伍角整" in html
    for reason in ("居民否认", "时长不足", "未核验", "无付款记录"):
        assert reason in html


def test_a_line_cleared_with_a_reason_is_counted(db, staff, month):
    client = staff.login("dispatcher")
    _page(client, month)
    statement = _statement(db, month)
    resp = client.post(f"/console/settlement/statement/{statement.id}/clear", follow_redirects=True,
                       data={"csrf_token": client.csrf, "order_id": month.orders["100006"].id,
                             "reason": "居民回电确认已上门"})
    assert "已核准" in resp.get_data(as_text=True)
    _page(client, month)
    assert _statement(db, month).subsidy_fen == 14750
    assert db.scalar(select(Visit.cleared_by).where(Visit.order_id == month.orders["100006"].id)) == "dispatcher-user"


@pytest.mark.parametrize("form", [{"reason": ""}, {"reason": "x" * 501}, {"order_id": "abc", "reason": "好"},
                                  {"order_id": "99999", "reason": "好"}])
def test_a_bad_clearance_says_why_and_changes_nothing(db, staff, month, form):
    client = staff.login("dispatcher")
    _page(client, month)
    statement = _statement(db, month)
    data = {"csrf_token": client.csrf, "order_id": month.orders["100006"].id, **form}
    resp = client.post(f"/console/settlement/statement/{statement.id}/clear", data=data, follow_redirects=True)
    assert 'class="flash error"' in resp.get_data(as_text=True)
    assert db.scalar(select(Visit.cleared_at).where(Visit.order_id == month.orders["100006"].id)) is None


def test_a_closed_month_is_read_only_with_a_clear_message(db, staff, month):
    client = staff.login("dispatcher")
    _page(client, month)
    statement = _statement(db, month)
    client.post(f"/console/settlement/statement/{statement.id}/close", data={"csrf_token": client.csrf})
    assert _statement(db, month).status == StatementStatus.CLOSED
    resp = client.post(f"/console/settlement/statement/{statement.id}/clear", follow_redirects=True,
                       data={"csrf_token": client.csrf, "order_id": month.orders["100006"].id, "reason": "迟到"})
    html = resp.get_data(as_text=True)
    assert "本月已结账，不能再修改" in html and 'id="close-month"' not in html
    assert db.scalar(select(Visit.cleared_at).where(Visit.order_id == month.orders["100006"].id)) is None


def test_a_month_not_over_cannot_be_closed(db, staff, month):
    client = staff.login("dispatcher")
    this_month = utcnow().astimezone(TZ).date().replace(day=1)
    _page(client, month, when=f"{this_month:%Y-%m}")
    statement = db.scalar(select(Statement).where(Statement.month == this_month))
    resp = client.post(f"/console/settlement/statement/{statement.id}/close", data={"csrf_token": client.csrf},
                       follow_redirects=True)
    assert "本月尚未结束" in resp.get_data(as_text=True)
    assert _statement(db, month).status == StatementStatus.OPEN


def test_a_bad_month_shows_last_month_with_a_message(staff, month):
    html = _page(staff.login("dispatcher"), month, when="2026-13").get_data(as_text=True)
    assert "月份格式应为" in html


def test_an_unknown_provider_is_not_found(staff, month):
    assert staff.login("dispatcher").get("/console/settlement/provider/999").status_code == 404


def test_the_csv_has_a_bom_and_no_cell_a_spreadsheet_would_run(db, staff, month):
    month.providers["甲"].name = "=HYPERLINK(\"x\")"
    db.commit()
    client = staff.login("dispatcher")
    _page(client, month)
    resp = client.get(f"/console/settlement/statement/{_statement(db, month).id}/export.csv")
    body = resp.get_data()
    assert body.startswith("\ufeff".encode()) and resp.mimetype == "text/csv"
    text = body.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\r\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert "117.50元" in text and "壹佰壹拾柒元伍角整" in text and "100006" in text


def test_the_printable_page_is_chinese_with_the_amount_in_capitals_and_no_script(db, staff, month):
    client = staff.login("dispatcher")
    _page(client, month)
    client.get("/console/settlement/?lang=en")  # the signed copy is Chinese whatever the console's language
    html = client.get(f"/console/settlement/statement/{_statement(db, month).id}/print").get_data(as_text=True)
    assert "政府购买养老服务月度结算单" in html and "2026年10月" in html
    assert "壹佰壹拾柒元伍角整" in html and "117.50元" in html
    assert "盖章处" in html and "负责人签字" in html and "<script" not in html


def test_the_services_report_shows_verified_shares_and_flags(staff, month):
    html = staff.login("dispatcher").get("/console/reports/services/?from=2026-10-01&to=2026-10-31").get_data(
        as_text=True)
    # 甲 in October: 9 visits, 7 verified (100007 too short is still verified by the resident), 77.8%.
    assert "77.8%" in html and "100.0%" in html
    assert "居民否认" in html and "时长不足" in html
