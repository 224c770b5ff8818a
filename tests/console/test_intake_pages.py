"""The intake in the console: the form with the taxonomy's labels, saving and correcting, the case page showing it,
the call-back stamp, the police report, and the close button refusing until intake and report are there.
Every new route: duty officers and admins only, CSRF, nothing written when refused."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.reconcile import kind_of
from models import AccessLog, Case, utcnow
from tests.casework import CALLER, SUPERVISOR_A, make_case, supervisors
from tests.orders import scheduled_jobs

CRITICAL = {"contact_type": "child_self", "risk_level": "critical", "category": ["violence/physical"],
            "summary": "孩子说被继父打", "child-0-name": "小明", "child-0-sex": "male", "child-0-age": "9",
            "child-0-township": "林东镇", "child-0-village": "东城村", "child-0-living": "left_behind",
            "child-0-flag": ["hardship"]}
URGENT = {**CRITICAL, "risk_level": "urgent", "category": ["family/conflict", "basic_needs"]}
POLICE = {"reporter": "王海燕", "station": "林东派出所", "report_no": "JB-0042"}
NEW_ROUTES = [("get", "/intake"), ("post", "/intake"), ("post", "/callback"), ("post", "/police"),
              ("post", "/links"), ("post", "/unlink")]


@pytest.fixture
def officer(staff):
    return staff.login("duty_officer", "zhang")


def post(client, path: str, data: dict | None = None, follow: bool = True):
    return client.post(path, data={**(data or {}), "csrf_token": client.csrf}, follow_redirects=follow)


def fresh(db, code="123456") -> Case:
    db.expire_all()
    return db.scalar(select(Case).where(Case.code == code))


def access(db) -> list[tuple[str, str]]:
    db.expire_all()
    return [(r.actor, r.action) for r in db.scalars(select(AccessLog).order_by(AccessLog.id))]


def local_input(minutes_ago: int, app) -> str:
    tz = app.extensions["hotline"].settings.tz
    return (utcnow() - timedelta(minutes=minutes_ago)).astimezone(tz).strftime("%Y-%m-%dT%H:%M")


# --- who may use the new routes ---------------------------------------------------------------------------

@pytest.mark.parametrize("method, tail", NEW_ROUTES, ids=[f"{m}{t}" for m, t in NEW_ROUTES])
def test_a_dispatcher_is_refused_every_new_route_and_nothing_is_written(staff, db, method, tail):
    make_case(db, status="acknowledged")
    client = staff.login("dispatcher")
    data = {**URGENT, **POLICE, "other": "654321", "reported_at": "2026-01-01T10:00"}
    resp = client.get("/console/cases/123456" + tail) if method == "get" else post(client, "/console/cases/123456"
                                                                                   + tail, data, follow=False)
    assert resp.status_code == 403 and "小明" not in resp.get_data(as_text=True)
    case = fresh(db)
    assert case.contact_type is None and case.called_back_at is None and access(db) == []


@pytest.mark.parametrize("method, tail", NEW_ROUTES, ids=[f"{m}{t}" for m, t in NEW_ROUTES])
def test_a_visitor_is_sent_to_sign_in_on_every_new_route_and_nothing_is_written(client, db, method, tail):
    make_case(db, status="acknowledged")
    path = "/console/cases/123456" + tail
    resp = client.get(path) if method == "get" else client.post(path, data=URGENT)
    assert resp.status_code in (302, 400, 401) and "/console/login" in resp.headers.get("Location", "/console/login")
    assert fresh(db).contact_type is None and access(db) == []


@pytest.mark.parametrize("role", ["duty_officer", "admin"])
def test_duty_officers_and_admins_may_open_and_save_the_intake(staff, db, role):
    make_case(db)
    client = staff.login(role)
    assert client.get("/console/cases/123456/intake").status_code == 200
    assert post(client, "/console/cases/123456/intake", URGENT).status_code == 200
    assert fresh(db).contact_type == "child_self"


@pytest.mark.parametrize("role", ["duty_officer", "admin"])
def test_duty_officers_and_admins_may_record_a_call_back_and_a_police_report(staff, db, app, role):
    make_case(db, status="acknowledged", minutes_ago=30)
    client = staff.login(role)
    post(client, "/console/cases/123456/callback")
    post(client, "/console/cases/123456/police", {**POLICE, "reported_at": local_input(5, app)})
    case = fresh(db)
    assert case.called_back_at is not None and case.police_recorded_at is not None


@pytest.mark.parametrize("method, tail", [r for r in NEW_ROUTES if r[0] == "post"])
def test_a_post_without_the_csrf_token_is_400_and_changes_nothing(officer, db, method, tail):
    make_case(db, status="acknowledged")
    resp = officer.post("/console/cases/123456" + tail, data={**URGENT, **POLICE, "other": "654321"})
    assert resp.status_code == 400
    case = fresh(db)
    assert case.contact_type is None and case.called_back_at is None and access(db) == []


def test_an_unknown_case_is_404_on_the_intake_form(officer, db):
    assert officer.get("/console/cases/999999/intake").status_code == 404
    assert post(officer, "/console/cases/999999/intake", URGENT, follow=False).status_code == 404


# --- the form ---------------------------------------------------------------------------------------------

def test_the_form_offers_the_taxonomys_labels_in_chinese(officer, db):
    make_case(db)
    html = officer.get("/console/cases/123456/intake").get_data(as_text=True)
    for text in ("儿童本人求助", "无声来电", "危急：儿童正处于危险中", "身体暴力", "校园欺凌", "留守",
                 "孤儿或事实无人抚养", "6-11岁"):
        assert text in html
    assert "Critical" not in html and "Left behind" not in html


def test_the_form_says_what_each_risk_level_sets_in_motion(officer, db):
    make_case(db)
    html = officer.get("/console/cases/123456/intake").get_data(as_text=True)
    critical = html[html.index('data-risk="critical"'):html.index('data-risk="urgent"')]
    assert "须报警" in critical and "72小时" in critical and "入户走访调查" in critical and "24小时" in critical
    assert "须报警" not in html[html.index('data-risk="urgent"'):html.index('data-risk="not_urgent"')]


def test_the_form_in_english_shows_english_labels(officer, db):
    make_case(db)
    html = officer.get("/console/cases/123456/intake?lang=en").get_data(as_text=True)
    assert "Critical: a child in danger now" in html and "Bullying" in html and "儿童本人求助" not in html


def test_opening_the_form_is_access_logged_as_a_read(officer, db):
    make_case(db)
    officer.get("/console/cases/123456/intake")
    assert access(db) == [("zhang", "read")]


def test_the_form_is_filled_with_the_saved_intake(officer, db):
    make_case(db)
    post(officer, "/console/cases/123456/intake", URGENT)
    html = officer.get("/console/cases/123456/intake").get_data(as_text=True)
    assert 'value="family/conflict" checked' in html and 'value="basic_needs" checked' in html
    assert 'name="child-0-name" value="小明"' in html and 'value="urgent" id="risk-urgent" checked' in html


# --- saving -------------------------------------------------------------------------------------------------

def test_saving_the_intake_shows_it_on_the_case_page(officer, db):
    make_case(db)
    html = post(officer, "/console/cases/123456/intake", URGENT).get_data(as_text=True)
    assert "已保存登记" in html and 'id="case-detail"' in html
    assert '<dd id="intake-contact">儿童本人求助</dd>' in html and "家庭问题 / 家庭矛盾" in html
    assert "基本生活与贫困" in html and "小明" in html and "困境儿童" in html and 'id="intake-deadline"' in html
    assert ("zhang", "write:intake") in access(db)


def test_a_refused_intake_shows_its_errors_keeps_the_typed_values_and_saves_nothing(officer, db):
    make_case(db)
    bad = {**URGENT, "risk_level": "", "child-0-age": "25", "category": []}
    resp = post(officer, "/console/cases/123456/intake", bad)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "此类来电须选择风险等级" in html and "儿童1：年龄须为0至17的整数" in html
    assert "须至少选择一个问题类别" in html
    assert 'name="child-0-name" value="小明"' in html and "孩子说被继父打" in html
    assert fresh(db).contact_type is None and fresh(db).children == [] and access(db) == []


@pytest.mark.parametrize("field, value", [("contact_type", "x" * 5000), ("category", "violence/"
                                                                           + "y" * 300), ("child-0-sex", "??")])
def test_garbage_fields_are_refused_and_save_nothing(officer, db, field, value):
    make_case(db)
    resp = post(officer, "/console/cases/123456/intake", {**URGENT, field: value})
    assert resp.status_code == 422 and fresh(db).contact_type is None


def test_a_nul_byte_in_the_intake_is_400_and_saves_nothing(officer, db):
    make_case(db)
    resp = post(officer, "/console/cases/123456/intake", {**URGENT, "summary": "a\x00b"}, follow=False)
    assert resp.status_code == 400 and fresh(db).contact_type is None


def test_a_silent_call_is_recorded_with_the_contact_type_alone(officer, db):
    make_case(db)
    post(officer, "/console/cases/123456/intake", {"contact_type": "silent", "child-0-sex": "unknown",
                                                   "child-0-living": "unknown"})
    case = fresh(db)
    assert case.contact_type == "silent" and case.children == [] and case.risk_level is None


def test_an_intake_on_a_closed_case_is_refused(officer, db):
    make_case(db, status="closed")
    resp = post(officer, "/console/cases/123456/intake", URGENT)
    assert resp.status_code == 422 and "不能登记" in resp.get_data(as_text=True)
    assert fresh(db).contact_type is None


def test_a_critical_intake_schedules_the_next_police_alert_round_after_the_commit(app, officer, db):
    supervisors(db)
    make_case(db)
    post(officer, "/console/cases/123456/intake", CRITICAL)
    case = fresh(db)
    assert case.police_required and case.police_alert_round == 1
    assert [(kind_of(j), j.args) for j in scheduled_jobs(app)] == [("police_alert", (case.id, 2))]
    queued = app.extensions["hotline"].queue.get_jobs()
    assert sorted(kind_of(j) for j in queued) == ["send", "send"]


# --- closing, the police report, the call-back ------------------------------------------------------------

def close(client, note="已处理"):
    return post(client, "/console/cases/123456/close", {"note": note})


def test_a_case_without_an_intake_cannot_be_closed(officer, db):
    make_case(db, status="acknowledged")
    html = close(officer).get_data(as_text=True)
    assert "尚未登记来电类型，不能结案" in html and fresh(db).status == "acknowledged"


def test_a_case_needing_a_police_report_cannot_be_closed_until_it_is_recorded(officer, db, app):
    supervisors(db)
    make_case(db, minutes_ago=20)
    post(officer, "/console/cases/123456/intake", CRITICAL)
    html = close(officer).get_data(as_text=True)
    assert "须报警，尚未登记报警记录，不能结案" in html and fresh(db).status == "answered"
    assert 'id="police-pending"' in html and 'id="close-refusal"' in html
    post(officer, "/console/cases/123456/police", {**POLICE, "reported_at": local_input(1, app)})
    html = close(officer).get_data(as_text=True)
    assert "已结案" in html and fresh(db).status == "closed"


def test_the_case_page_shows_the_police_report_and_the_time_from_intake_to_report(officer, db, app):
    make_case(db, minutes_ago=20)
    post(officer, "/console/cases/123456/intake", CRITICAL)
    case = fresh(db)
    case.intake_at = utcnow() - timedelta(minutes=15)
    db.commit()
    html = post(officer, "/console/cases/123456/police", {**POLICE, "reported_at": local_input(5, app)}).get_data(
        as_text=True)
    assert "已登记报警记录" in html and '<dd id="police-station">林东派出所</dd>' in html
    minutes = float(html.split('<dd id="police-minutes">')[1].split("分钟")[0])
    assert 9 <= minutes <= 11  # reported_at is to the minute
    assert ("zhang", "write:police") in access(db)


@pytest.mark.parametrize("fields, text", [({"station": ""}, "请填写报警派出所"),
                                          ({"reported_at": "yesterday"}, "请填写报警时间"),
                                          ({"reported_at": "2999-01-01T10:00"}, "报警时间不能早于来电")])
def test_a_bad_police_report_is_refused_with_a_clear_message(officer, db, app, fields, text):
    make_case(db, minutes_ago=20)
    html = post(officer, "/console/cases/123456/police", {**POLICE, "reported_at": local_input(1, app),
                                                           **fields}).get_data(as_text=True)
    assert text in html and fresh(db).police_recorded_at is None
    assert ("zhang", "write:police") not in access(db)


def test_recording_a_call_back_on_an_acknowledged_case(officer, db):
    make_case(db, status="acknowledged")
    html = post(officer, "/console/cases/123456/callback").get_data(as_text=True)
    assert "已记录回电时间" in html and 'id="called-back"' in html and 'id="callback-form"' not in html
    assert fresh(db).called_back_by == "zhang" and ("zhang", "write:callback") in access(db)


def test_a_call_back_on_an_answered_case_is_refused(officer, db):
    make_case(db, status="answered")
    html = post(officer, "/console/cases/123456/callback").get_data(as_text=True)
    assert "只有已确认的留言或未接来电才记录回电" in html and fresh(db).called_back_at is None


def test_the_police_alert_sms_names_the_case_but_not_the_child_on_the_case_page(officer, db):
    supervisors(db)
    make_case(db)
    html = post(officer, "/console/cases/123456/intake", CRITICAL).get_data(as_text=True)
    alerts = html[html.index('id="case-alerts"'):]
    assert "需报警" in alerts and "123456" in alerts and "小明" not in alerts
    assert SUPERVISOR_A not in html and CALLER not in html
