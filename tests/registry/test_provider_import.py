"""The purchased-services files: service providers, the price list and the subsidy rules, imported like the
other registries (Chinese or English headers, errors by line, all or nothing), and the technicians' provider
column. Rules are never edited: a re-imported row changes nothing, a different one for the same day is refused."""
from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hotline.registry.importer import import_csv
from models import PriceRule, ServiceProvider, Statement, StatementStatus, SubsidyRule, Technician
from tests.console.conftest import Staff

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROVIDERS = """\
名称,联系人,联系电话,合同开始,合同结束,启用
康乐家政,李经理,138 0476 5001,2026-01-01,2026/12/31,是
爱心养老服务中心,王经理,0476-8225002,2026年3月1日,,否
"""
PRICES = """\
服务类别,服务商,价格（元）,最短时长（分钟）,生效日期
生活照料,,20,30,2026-01-01
housekeeping,,30.5,60,2026-01-01
2,康乐家政,¥28.00,45,2026-06-01
"""
SUBSIDIES = """\
老人类别,补贴比例,每月上限（元）,生效日期
困难,100%,,2026-01-01
高龄,100,,2026-01-01
other,50,200.00,2026-01-01
"""
TECHNICIANS = "姓名,电话,技能,服务商\n赵志刚,138 0476 1101,生活照料,康乐家政\n孙秀芳,138 0476 1102,家政服务,\n"


def run(db, kind: str, text: str, encoding: str = "utf-8", actor: str = ""):
    return import_csv(db, kind, text.encode(encoding), SHANGHAI, actor=actor)


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def lines(result) -> list[int]:
    return [e.line for e in result.errors]


def providers(db) -> list[tuple]:
    return [(p.name, p.contact_name, p.contact_phone, p.contract_start, p.contract_end, p.active)
            for p in db.scalars(select(ServiceProvider).order_by(ServiceProvider.id))]


@pytest.fixture
def registered(db):
    assert run(db, "service_providers", PROVIDERS).ok
    db.commit()


# --- providers ----------------------------------------------------------------------------------------

def test_providers_are_created_with_contacts_in_e164_and_contract_periods(db):
    result = run(db, "service_providers", PROVIDERS)
    assert (result.ok, result.created, result.updated) == (True, 2, 0)
    assert providers(db) == [
        ("康乐家政", "李经理", "+8613804765001", date(2026, 1, 1), date(2026, 12, 31), True),
        ("爱心养老服务中心", "王经理", "+864768225002", date(2026, 3, 1), None, False)]


def test_english_headers_are_accepted(db):
    text = "name,contact_name,contact_phone,contract_start,contract_end,active\nKangle,Li,13804765001,2026-01-01,,yes\n"
    assert run(db, "service_providers", text).ok
    assert providers(db) == [("Kangle", "Li", "+8613804765001", date(2026, 1, 1), None, True)]


def test_a_gb18030_file_is_accepted(db):
    assert run(db, "service_providers", PROVIDERS, encoding="gb18030").ok and count(db, ServiceProvider) == 2


def test_a_provider_is_matched_by_name_and_a_missing_column_leaves_its_field_alone(db, registered):
    result = run(db, "service_providers", "名称,联系人\n康乐家政,赵经理\n")
    assert (result.ok, result.created, result.updated) == (True, 0, 1)
    assert providers(db)[0] == ("康乐家政", "赵经理", "+8613804765001", date(2026, 1, 1), date(2026, 12, 31), True)


@pytest.mark.parametrize(("row", "words"), [
    (",李经理,,,,", "“名称”不能为空"),
    ("新服务商,,12,,,", "电话号码无效"),
    ("新服务商,,,2026-02-30,,", "“合同开始”无效"),
    ("新服务商,,,2026-06-01,2026-05-31,", "合同结束日期早于开始日期"),
    ("新服务商,,,,,也许", "在岗状态“也许”无效"),
    ("康乐家政,,,,,", "名称与第2行重复"),
])
def test_a_bad_provider_row_is_reported_by_line_and_nothing_is_imported(db, row, words):
    result = run(db, "service_providers", PROVIDERS.splitlines()[0] + "\n" + PROVIDERS.splitlines()[1] + "\n"
                 + row + "\n")
    assert lines(result) == [3] and words in result.errors[0].message and count(db, ServiceProvider) == 0


def test_a_file_without_the_name_column_is_refused(db):
    result = run(db, "service_providers", "联系人\n李经理\n")
    assert lines(result) == [1] and "（name）" in result.errors[0].message and count(db, ServiceProvider) == 0


# --- the technicians' provider column --------------------------------------------------------------------

def test_the_technicians_file_names_each_technicians_provider(db, registered):
    assert run(db, "technicians", TECHNICIANS).ok
    rows = {t.name: t.provider_id for t in db.scalars(select(Technician))}
    kangle = db.scalar(select(ServiceProvider.id).where(ServiceProvider.name == "康乐家政"))
    assert rows == {"赵志刚": kangle, "孙秀芳": None}


def test_an_unknown_provider_is_an_error_on_that_line_and_nothing_is_imported(db, registered):
    result = run(db, "technicians", TECHNICIANS.replace("家政服务,", "家政服务,无名公司"))
    assert lines(result) == [3] and "服务商“无名公司”未登记" in result.errors[0].message
    assert count(db, Technician) == 0


def test_a_technicians_file_without_the_provider_column_leaves_the_provider_alone(db, registered):
    run(db, "technicians", TECHNICIANS)
    assert run(db, "technicians", "姓名,电话,技能\n赵志刚,138 0476 1101,生活照料\n").ok
    assert db.scalar(select(Technician.provider_id).where(Technician.name == "赵志刚")) is not None


# --- prices ---------------------------------------------------------------------------------------------

def test_prices_become_fen_with_their_provider_minimum_and_who_imported_them(db, registered):
    result = run(db, "prices", PRICES, actor="wang")
    assert (result.ok, result.created) == (True, 3)
    kangle = db.scalar(select(ServiceProvider.id).where(ServiceProvider.name == "康乐家政"))
    rows = [(r.category, r.provider_id, r.price_fen, r.min_minutes, r.valid_from, r.created_by)
            for r in db.scalars(select(PriceRule).order_by(PriceRule.id))]
    assert rows == [("daily_care", None, 2000, 30, date(2026, 1, 1), "wang"),
                    ("housekeeping", None, 3050, 60, date(2026, 1, 1), "wang"),
                    ("housekeeping", kangle, 2800, 45, date(2026, 6, 1), "wang")]


def test_english_price_headers_and_a_blank_minimum_are_accepted(db):
    assert run(db, "prices", "category,provider,price,min_minutes,valid_from\ndaily_care,,20,,2026-01-01\n").ok
    assert db.scalar(select(PriceRule.min_minutes)) == 0


def test_reimporting_the_same_price_list_changes_nothing(db, registered):
    run(db, "prices", PRICES)
    result = run(db, "prices", PRICES)
    assert (result.ok, result.created, result.updated) == (True, 0, 3) and count(db, PriceRule) == 3


def test_a_different_price_for_a_day_that_already_has_one_is_refused(db, registered):
    run(db, "prices", PRICES)
    result = run(db, "prices", PRICES.replace(",20,30,", ",25,30,"))
    assert lines(result) == [2] and "规则不能修改" in result.errors[0].message
    assert db.scalar(select(PriceRule.price_fen).where(PriceRule.category == "daily_care")) == 2000


def test_a_day_inside_a_closed_month_is_refused(db, registered):
    kangle = db.scalar(select(ServiceProvider.id).where(ServiceProvider.name == "康乐家政"))
    db.add(Statement(provider_id=kangle, month=date(2026, 5, 1), status=StatementStatus.CLOSED.value))
    result = run(db, "prices", PRICES)
    assert lines(result) == [2, 3] and "最早可从2026-06-01起生效" in result.errors[0].message
    assert count(db, PriceRule) == 0


@pytest.mark.parametrize(("row", "words"), [
    ("园艺,,20,30,2026-01-01", "未知服务类别"),
    ("生活照料,,20.555,30,2026-01-01", "最多两位小数"),
    ("生活照料,,-20,30,2026-01-01", "最多两位小数"),
    ("生活照料,,20,两小时,2026-01-01", "“最短时长（分钟）”须为0～1440的整数"),
    ("生活照料,,20,30,明天", "“生效日期”无效"),
    ("生活照料,,,30,2026-01-01", "不能为空"),
    ("生活照料,无名公司,20,30,2026-01-01", "服务商“无名公司”未登记"),
    ("1,,21,30,2026-01-01", "与第2行是同一规则"),
])
def test_a_bad_price_row_is_reported_by_line_and_nothing_is_imported(db, registered, row, words):
    result = run(db, "prices", PRICES.splitlines()[0] + "\n" + PRICES.splitlines()[1] + "\n" + row + "\n")
    assert lines(result) == [3] and words in result.errors[0].message and count(db, PriceRule) == 0


# --- subsidies -----------------------------------------------------------------------------------------

def test_subsidy_rules_are_imported_with_shares_and_caps_in_fen(db):
    result = run(db, "subsidies", SUBSIDIES, actor="li")
    assert (result.ok, result.created) == (True, 3)
    rows = [(r.resident_class, r.share_percent, r.monthly_cap_fen, r.valid_from, r.created_by)
            for r in db.scalars(select(SubsidyRule).order_by(SubsidyRule.id))]
    assert rows == [("hardship", 100, None, date(2026, 1, 1), "li"),
                    ("advanced_age", 100, None, date(2026, 1, 1), "li"),
                    ("other", 50, 20000, date(2026, 1, 1), "li")]


@pytest.mark.parametrize(("row", "words"), [
    ("富裕,50,,2026-01-01", "未知老人类别"), ("其他,101,,2026-01-01", "须为0～100的整数"),
    ("其他,50,很多,2026-01-01", "最多两位小数"), ("其他,,,2026-01-01", "不能为空"),
])
def test_a_bad_subsidy_row_is_reported_by_line_and_nothing_is_imported(db, row, words):
    result = run(db, "subsidies", SUBSIDIES.splitlines()[0] + "\n困难,100,,2026-01-01\n" + row + "\n")
    assert lines(result) == [3] and words in result.errors[0].message and count(db, SubsidyRule) == 0


# --- the console import page and the command line --------------------------------------------------------

@pytest.fixture
def staff(app) -> Staff:
    return Staff(app)


def upload(client, kind: str, text: str):
    return client.post("/console/import/", content_type="multipart/form-data",
                       data={"csrf_token": client.csrf, "kind": kind, "file": (io.BytesIO(text.encode()), "f.csv")})


def test_a_dispatcher_imports_providers_prices_and_subsidies_on_the_import_page(staff, db):
    client = staff.login("dispatcher", "wang")
    for kind, text in (("service_providers", PROVIDERS), ("prices", PRICES), ("subsidies", SUBSIDIES)):
        assert upload(client, kind, text).status_code == 200
    db.expire_all()
    assert (count(db, ServiceProvider), count(db, PriceRule), count(db, SubsidyRule)) == (2, 3, 3)
    assert set(db.scalars(select(PriceRule.created_by))) == {"wang"}


@pytest.mark.parametrize("kind", ["service_providers", "prices", "subsidies"])
def test_a_duty_officer_may_not_import_purchased_services_files(staff, db, kind):
    resp = upload(staff.login("duty_officer"), kind, {"service_providers": PROVIDERS, "prices": PRICES,
                                                       "subsidies": SUBSIDIES}[kind])
    assert resp.status_code == 403 and count(db, ServiceProvider) + count(db, SubsidyRule) == 0


def test_flask_import_csv_imports_service_providers(runner, db, tmp_path):
    path = tmp_path / "providers.csv"
    path.write_text(PROVIDERS, encoding="utf-8")
    result = runner.invoke(args=["import-csv", "service_providers", str(path)])
    assert result.exit_code == 0 and "2 created" in result.output
    db.expire_all()
    assert count(db, ServiceProvider) == 2
