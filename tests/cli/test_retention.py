"""`flask anonymise-cases`: a case closed more than N years ago loses its free text and its children's
identity, keeps its figures, is logged per case, and is never touched twice; newer and open cases stay."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.retention import age_band, anonymise_cases, retention_cutoff
from hotline.config import load_settings
from models import AccessLog, CallLog, Case, CaseCategory, CaseChild, CaseTask, Message, case_event, utcnow

CALLER = "+8613904761234"
ALERT = "未保热线个案{code}有留言,请回电13904761234。"


def make_case(db, code: str, *, closed_years_ago: float | None, children: int = 1) -> Case:
    now = utcnow()
    closed = now - timedelta(days=365.25 * closed_years_ago) if closed_years_ago is not None else None
    case = Case(code=code, status="closed" if closed else "answered", caller=CALLER, call_sid=f"CA{code:0>32}",
                created_at=(closed or now) - timedelta(days=2), closed_at=closed, note="已家访，父亲承认打孩子",
                summary="孩子说父亲打她", contact_type="child_self", risk_level="critical", police_required=True,
                police_report_no="林公(刑)字2020-118", police_station="林东派出所",
                recording_url="https://api.twilio.com/rec/RE1")
    for n in range(children):
        case.children.append(CaseChild(name=f"李小花{n}", sex="female", age=9 + n, township="林东镇",
                                       village="前进村", school="林东第一小学"))
    case.categories.append(CaseCategory(category="violence", sub="physical"))
    case.tasks.append(CaseTask(kind="home_visit", status="done", due_at=now, outcome="见到李小花，伤已好"))
    db.add(case)
    db.flush()
    case_event(db, case, "closed", case.note, actor="duty")
    db.add(CallLog(call_sid=case.call_sid, from_phone=CALLER, line="child", recording_url=case.recording_url))
    db.add(Message(key=f"case-alert:{case.id}", to_phone="+8613800005678", body=ALERT.format(code=code),
                   case_id=case.id, status="local"))
    db.commit()
    return case


@pytest.fixture
def cases(db):
    return {"old": make_case(db, "600001", closed_years_ago=6, children=2),
            "recent": make_case(db, "600002", closed_years_ago=1),
            "open": make_case(db, "600003", closed_years_ago=None)}


def fresh(db, case: Case) -> Case:
    db.expire_all()
    return db.get(Case, case.id)


def test_a_case_closed_six_years_ago_loses_its_free_text_and_numbers(runner, db, cases):
    runner.invoke(args=["anonymise-cases"])
    case = fresh(db, cases["old"])
    assert (case.note, case.summary, case.caller, case.recording_url, case.police_report_no) == ("", "", "", None, "")
    assert [e.detail for e in case.events] == [""]
    assert [t.outcome for t in case.tasks] == [""]
    assert case.anonymised_at is not None


def test_its_children_lose_their_identity_but_keep_the_figures(runner, db, cases):
    runner.invoke(args=["anonymise-cases"])
    children = fresh(db, cases["old"]).children
    assert [(c.name, c.school, c.village, c.age) for c in children] == [("", "", "", None)] * 2
    assert [(c.sex, c.age_band, c.township) for c in children] == [("female", "6-11", "林东镇")] * 2
    assert all(c.anonymised_at is not None for c in children)


def test_it_keeps_what_the_reports_count(runner, db, cases):
    runner.invoke(args=["anonymise-cases"])
    case = fresh(db, cases["old"])
    assert (case.status, case.contact_type, case.risk_level, case.police_required, case.police_station) == (
        "closed", "child_self", "critical", True, "林东派出所")
    assert [(c.category, c.sub) for c in case.categories] == [("violence", "physical")]


def test_the_number_goes_from_the_call_record_and_the_alert_text(runner, db, cases):
    runner.invoke(args=["anonymise-cases"])
    db.expire_all()
    call = db.scalar(select(CallLog).where(CallLog.call_sid == cases["old"].call_sid))
    assert (call.from_phone, call.recording_url) == ("", None)
    body = db.scalar(select(Message.body).where(Message.case_id == cases["old"].id))
    assert "13904761234" not in body and "600001" in body


@pytest.mark.parametrize("which", ["recent", "open"])
def test_a_recent_or_open_case_is_untouched(runner, db, cases, which):
    runner.invoke(args=["anonymise-cases"])
    case = fresh(db, cases[which])
    assert (case.caller, case.summary, case.anonymised_at) == (CALLER, "孩子说父亲打她", None)
    assert case.children[0].name == "李小花0"


def test_each_anonymised_case_writes_one_access_log_row(runner, db, cases):
    runner.invoke(args=["anonymise-cases"])
    db.expire_all()
    rows = list(db.scalars(select(AccessLog)))
    assert [(r.actor, r.action, r.case_id, r.route) for r in rows] == [
        ("retention", "anonymise", cases["old"].id, "flask anonymise-cases")]


def test_a_second_run_does_nothing(runner, db, cases):
    runner.invoke(args=["anonymise-cases"])
    output = runner.invoke(args=["anonymise-cases"]).output
    assert "0 case(s), 0 child(ren) anonymised" in output
    db.expire_all()
    assert len(list(db.scalars(select(AccessLog)))) == 1


def test_it_says_what_it_did_by_year(runner, cases):
    result = runner.invoke(args=["anonymise-cases"])
    assert result.exit_code == 0, result.output
    year = cases["old"].closed_at.year
    assert f"  {year}: 1" in result.output
    assert "已匿名化 1 个个案、2 名儿童 / 1 case(s), 2 child(ren) anonymised" in result.output


def test_years_chooses_the_cutoff(runner, db, cases):
    runner.invoke(args=["anonymise-cases", "--years", "1"])
    assert fresh(db, cases["recent"]).anonymised_at is not None
    assert fresh(db, cases["open"]).anonymised_at is None


def test_the_setting_is_the_default(app, db, cases, settings, monkeypatch):
    monkeypatch.setattr(app.extensions["hotline"], "settings", settings.with_overrides(case_retention_years=10))
    app.test_cli_runner().invoke(args=["anonymise-cases"])
    assert fresh(db, cases["old"]).anonymised_at is None


def test_a_dry_run_changes_and_logs_nothing(runner, db, cases):
    output = runner.invoke(args=["anonymise-cases", "--dry-run"]).output
    assert "将匿名化 1 个个案" in output and "dry run" in output
    assert fresh(db, cases["old"]).summary == "孩子说父亲打她"
    db.expire_all()
    assert list(db.scalars(select(AccessLog))) == []


@pytest.mark.parametrize("years", ["0", "-1", "five"])
def test_a_bad_year_count_is_refused(runner, db, cases, years):
    result = runner.invoke(args=["anonymise-cases", "--years", years])
    assert result.exit_code != 0
    assert fresh(db, cases["old"]).anonymised_at is None


def test_a_leap_day_cutoff_falls_back_to_the_28th():
    leap = utcnow().replace(year=2028, month=2, day=29)
    assert (retention_cutoff(leap, 5).month, retention_cutoff(leap, 5).day) == (2, 28)


@pytest.mark.parametrize(("age", "band"), [(0, "0-5"), (5, "0-5"), (6, "6-11"), (14, "12-14"), (17, "15-17"),
                                           (None, "")])
def test_an_age_becomes_its_band(age, band):
    assert age_band(age) == band


def test_the_domain_function_reports_the_same_counts(db, cases):
    result = anonymise_cases(db, utcnow(), 5, dry_run=True)
    assert (result.cases, result.children, result.case_ids) == (1, 2, [cases["old"].id])


def test_the_retention_period_is_five_years_unless_configured():
    assert load_settings({}).case_retention_years == 5
    assert load_settings({"CASE_RETENTION_YEARS": "7"}).case_retention_years == 7
    with pytest.raises(ValueError):
        load_settings({"CASE_RETENTION_YEARS": "0"})
