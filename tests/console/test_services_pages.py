"""The purchased-services pages: providers (list, add, edit, activate), the price list and the subsidy rules.
Admins and dispatchers may use them, duty officers may not, visitors sign in first; a change is a new dated row
recorded with who made it, and a bad form changes nothing."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import PriceRule, ServiceProvider, Statement, StatementStatus, SubsidyRule, Technician
from tests.console.board_helpers import _order
from tests.console.conftest import csrf_of

ROUTES = [("get", "/console/services/"), ("get", "/console/services/providers/new"),
          ("post", "/console/services/providers/new"), ("get", "/console/services/providers/1"),
          ("post", "/console/services/providers/1"), ("post", "/console/services/providers/1/active"),
          ("get", "/console/services/prices"), ("post", "/console/services/prices"),
          ("get", "/console/services/subsidies"), ("post", "/console/services/subsidies")]
FORM = {"name": "爱心养老服务中心", "contact_name": "王经理", "contact_phone": "138 0476 5002",
        "contract_start": "2026-01-01", "contract_end": "2026-12-31", "active": "0", "category": "housekeeping",
        "price": "30", "min_minutes": "60", "resident_class": "hardship", "share_percent": "100"}


def today(app) -> date:
    return datetime.now(app.extensions["hotline"].settings.tz).date()


@pytest.fixture
def provider(db):
    record = ServiceProvider(name="康乐家政", contact_name="李经理", contact_phone="+8613804765001",
                             contract_start=date(2026, 1, 1), contract_end=date(2026, 12, 31))
    db.add(record)
    db.commit()
    return record


def post(client, path: str, **form):
    return client.post(path, data={"csrf_token": client.csrf, **form})


def state(db) -> tuple:
    db.expire_all()
    providers = [(p.name, p.contact_name, p.contact_phone, p.contract_start, p.contract_end, p.active)
                 for p in db.scalars(select(ServiceProvider).order_by(ServiceProvider.id))]
    return (providers, db.scalar(select(func.count()).select_from(PriceRule)),
            db.scalar(select(func.count()).select_from(SubsidyRule)))


# --- who may -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_duty_officer_is_refused_every_services_route_and_nothing_changes(app, staff, db, provider, method, path):
    before = state(db)
    client = staff.login("duty_officer")
    resp = client.get(path) if method == "get" else post(client, path, **FORM, valid_from=today(app).isoformat())
    assert resp.status_code == 403 and state(db) == before


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_visitor_is_sent_to_sign_in_on_every_services_route(app, client, db, provider, method, path):
    before = state(db)
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    resp = client.get(path) if method == "get" else client.post(
        path, data={**FORM, "valid_from": today(app).isoformat(), "csrf_token": token})
    assert resp.status_code == 302 and "/console/login" in resp.location and state(db) == before


@pytest.mark.parametrize("role", ["dispatcher", "admin"])
@pytest.mark.parametrize("path", [p for m, p in ROUTES if m == "get"])
def test_dispatchers_and_admins_open_every_services_page(staff, db, provider, role, path):
    assert staff.login(role).get(path).status_code == 200


@pytest.mark.parametrize("role", ["dispatcher", "admin"])
def test_dispatchers_and_admins_add_a_price_row(app, staff, db, role):
    resp = post(staff.login(role, "li"), "/console/services/prices", category="daily_care", price="20.5",
                min_minutes="30", valid_from=today(app).isoformat())
    assert resp.status_code == 303
    rule = db.scalar(select(PriceRule))
    assert (rule.category, rule.provider_id, rule.price_fen, rule.min_minutes, rule.created_by) == \
        ("daily_care", None, 2050, 30, "li")


def test_a_post_without_the_csrf_token_changes_nothing(app, staff, db):
    client = staff.login("dispatcher")
    resp = client.post("/console/services/prices", data={"category": "daily_care", "price": "20",
                                                         "valid_from": today(app).isoformat()})
    assert resp.status_code == 400 and state(db)[1] == 0


# --- providers -----------------------------------------------------------------------------------------

def test_the_list_shows_each_provider_with_its_contact_number_masked(staff, db, provider):
    html = staff.login("dispatcher").get("/console/services/").get_data(as_text=True)
    assert "康乐家政" in html and "李经理" in html and "+86****5001" in html and "+8613804765001" not in html


def test_adding_a_provider_stores_its_contact_in_e164_and_its_contract_period(staff, db):
    resp = post(staff.login("dispatcher"), "/console/services/providers/new", name="爱心养老服务中心",
                contact_name="王经理", contact_phone="138 0476 5002", contract_start="2026-01-01",
                contract_end="2026/12/31")
    assert resp.status_code == 303
    assert state(db)[0] == [("爱心养老服务中心", "王经理", "+8613804765002", date(2026, 1, 1), date(2026, 12, 31),
                             True)]


@pytest.mark.parametrize("form", [
    {"name": ""}, {"name": "甲" * 201}, {"name": "新的", "contact_phone": "12"},
    {"name": "新的", "contract_start": "2026-13-01"},
    {"name": "新的", "contract_start": "2026-06-01", "contract_end": "2026-05-31"},
    {"name": "康乐家政"},  # the name of another provider
])
def test_a_bad_provider_form_is_refused_with_a_message_and_changes_nothing(staff, db, provider, form):
    before = state(db)
    resp = post(staff.login("dispatcher"), "/console/services/providers/new", **form)
    assert resp.status_code == 400 and 'id="form-errors"' in resp.get_data(as_text=True) and state(db) == before


@pytest.mark.parametrize(("path", "form"), [
    ("/console/services/providers/new", {"name": "康乐\x00家政"}),
    ("/console/services/prices", {"category": "daily_care", "price": "2\x000", "valid_from": "2026-12-01"}),
])
def test_nul_bytes_in_a_form_are_refused_and_change_nothing(staff, db, path, form):
    before = state(db)
    assert post(staff.login("dispatcher"), path, **form).status_code == 400 and state(db) == before


def test_editing_a_provider_changes_its_fields(staff, db, provider):
    resp = post(staff.login("dispatcher"), f"/console/services/providers/{provider.id}", name="康乐家政服务",
                contact_name="赵经理", contact_phone="", contract_start="2026-02-01", contract_end="")
    assert resp.status_code == 303
    assert state(db)[0] == [("康乐家政服务", "赵经理", "", date(2026, 2, 1), None, True)]


def test_deactivating_a_provider_keeps_it_listed_as_inactive(staff, db, provider):
    client = staff.login("dispatcher")
    assert post(client, f"/console/services/providers/{provider.id}/active", active="0").status_code == 303
    assert state(db)[0][0][5] is False
    assert 'data-active="false"' in client.get("/console/services/").get_data(as_text=True)


def test_a_bad_active_value_is_refused(staff, db, provider):
    resp = post(staff.login("dispatcher"), f"/console/services/providers/{provider.id}/active", active="maybe")
    assert resp.status_code == 400 and state(db)[0][0][5] is True


def test_an_unknown_provider_is_not_found(staff, db):
    assert staff.login("dispatcher").get("/console/services/providers/999").status_code == 404


def test_the_provider_page_lists_its_technicians_and_own_prices(app, staff, db, provider):
    db.add(Technician(name="赵志刚", phone="+8613804761101", skills="daily_care", provider_id=provider.id))
    db.add(PriceRule(category="housekeeping", provider_id=provider.id, price_fen=2500, min_minutes=45,
                     valid_from=date(2026, 1, 1)))
    db.commit()
    html = staff.login("dispatcher").get(f"/console/services/providers/{provider.id}").get_data(as_text=True)
    assert "赵志刚" in html and "25.00元" in html and "家政服务" in html


# --- the technicians' pages and the board show the provider -----------------------------------------------

def test_the_technicians_list_shows_the_provider(staff, db, provider):
    db.add(Technician(name="赵志刚", phone="+8613804761101", skills="daily_care", provider_id=provider.id))
    db.commit()
    html = staff.login("dispatcher").get("/console/technicians").get_data(as_text=True)
    assert '<td class="provider">康乐家政</td>' in html


def test_the_technician_form_sets_the_provider(staff, db, provider):
    db.add(Technician(name="赵志刚", phone="+8613804761101", skills="daily_care"))
    db.commit()
    tech = db.scalar(select(Technician))
    resp = post(staff.login("dispatcher"), f"/console/technicians/{tech.id}", name="赵志刚",
                phone="+8613804761101", skills="daily_care", provider=str(provider.id))
    db.expire_all()
    assert resp.status_code in (302, 303) and tech.provider_id == provider.id


def test_the_technician_form_refuses_an_unknown_provider(staff, db, provider):
    db.add(Technician(name="赵志刚", phone="+8613804761101", skills="daily_care"))
    db.commit()
    tech = db.scalar(select(Technician))
    resp = post(staff.login("dispatcher"), f"/console/technicians/{tech.id}", name="赵志刚",
                phone="+8613804761101", skills="daily_care", provider="999")
    db.expire_all()
    assert resp.status_code == 400 and tech.provider_id is None


def test_the_order_detail_on_the_board_shows_the_technicians_provider(staff, db, provider):
    tech = Technician(name="赵志刚", phone="+8613804761101", skills="housekeeping", provider_id=provider.id)
    db.add(tech)
    db.commit()
    order = _order(db, status="accepted", tech=tech)
    html = staff.login("dispatcher").get(f"/console/orders/{order.id}").get_data(as_text=True)
    assert '<dd id="order-provider">康乐家政</dd>' in html


# --- prices and subsidies --------------------------------------------------------------------------------

def test_a_provider_price_is_recorded_for_that_provider_and_shown_as_yuan(app, staff, db, provider):
    client = staff.login("dispatcher")
    post(client, "/console/services/prices", category="housekeeping", provider=str(provider.id), price="25",
         min_minutes="45", valid_from=today(app).isoformat())
    html = client.get("/console/services/prices").get_data(as_text=True)
    assert db.scalar(select(PriceRule.provider_id)) == provider.id and "25.00元" in html and "康乐家政" in html


def test_a_change_is_a_new_row_and_the_old_one_stays_in_the_history(app, staff, db):
    db.add(PriceRule(category="daily_care", price_fen=2000, min_minutes=30, valid_from=date(2026, 1, 1)))
    db.commit()
    client = staff.login("dispatcher")
    post(client, "/console/services/prices", category="daily_care", price="22", min_minutes="30",
         valid_from=(today(app) + timedelta(days=10)).isoformat())
    rows = db.scalars(select(PriceRule).order_by(PriceRule.valid_from)).all()
    assert [(r.price_fen, r.valid_from) for r in rows] == [(2000, date(2026, 1, 1)),
                                                           (2200, today(app) + timedelta(days=10))]
    html = client.get("/console/services/prices").get_data(as_text=True)
    assert "20.00元" in html and "22.00元" in html and 'data-state="future"' in html and 'data-state="in_force"' in html


def test_a_second_row_for_the_same_key_and_day_is_refused(app, staff, db):
    day = today(app)
    db.add(PriceRule(category="daily_care", price_fen=2000, min_minutes=30, valid_from=day))
    db.commit()
    resp = post(staff.login("dispatcher"), "/console/services/prices", category="daily_care", price="99",
                valid_from=day.isoformat())
    assert resp.status_code == 400 and [r.price_fen for r in db.scalars(select(PriceRule))] == [2000]


def test_a_day_inside_a_closed_month_is_refused(app, staff, db, provider):
    db.add(Statement(provider_id=provider.id, month=date(2026, 10, 1), status=StatementStatus.CLOSED.value))
    db.commit()
    resp = post(staff.login("dispatcher"), "/console/services/prices", category="daily_care", price="20",
                valid_from="2026-10-15")
    assert resp.status_code == 400 and "2026-11-01" in resp.get_data(as_text=True) and state(db)[1] == 0


def test_a_past_day_of_a_month_not_yet_closed_is_accepted(app, staff, db):
    first = today(app).replace(day=1)
    resp = post(staff.login("dispatcher"), "/console/services/prices", category="daily_care", price="20",
                valid_from=first.isoformat())
    assert resp.status_code == 303 and db.scalar(select(PriceRule.valid_from)) == first


@pytest.mark.parametrize("form", [
    {"category": "gardening", "price": "20"}, {"category": "daily_care", "price": "20.555"},
    {"category": "daily_care", "price": "-5"}, {"category": "daily_care", "price": ""},
    {"category": "daily_care", "price": "20", "min_minutes": "9999"},
    {"category": "daily_care", "price": "20", "provider": "999"},
    {"category": "daily_care", "price": "20", "valid_from": "tomorrow"},
])
def test_a_bad_price_form_is_refused_with_a_message_and_changes_nothing(app, staff, db, form):
    form = {"valid_from": today(app).isoformat(), **form}
    resp = post(staff.login("dispatcher"), "/console/services/prices", **form)
    assert resp.status_code == 400 and 'id="form-errors"' in resp.get_data(as_text=True) and state(db)[1] == 0


def test_a_subsidy_rule_is_recorded_with_its_cap_in_fen_and_who_added_it(app, staff, db):
    client = staff.login("dispatcher", "wang")
    resp = post(client, "/console/services/subsidies", resident_class="other", share_percent="50",
                monthly_cap="200", valid_from=today(app).isoformat())
    rule = db.scalar(select(SubsidyRule))
    assert resp.status_code == 303
    assert (rule.resident_class, rule.share_percent, rule.monthly_cap_fen, rule.created_by) == \
        ("other", 50, 20000, "wang")
    html = client.get("/console/services/subsidies").get_data(as_text=True)
    assert "200.00元" in html and "50%" in html and "wang" in html


def test_a_blank_cap_means_no_cap(app, staff, db):
    post(staff.login("dispatcher"), "/console/services/subsidies", resident_class="hardship", share_percent="100",
         monthly_cap="", valid_from=today(app).isoformat())
    assert db.scalar(select(SubsidyRule)).monthly_cap_fen is None


@pytest.mark.parametrize("form", [
    {"resident_class": "rich", "share_percent": "50"}, {"resident_class": "other", "share_percent": "101"},
    {"resident_class": "other", "share_percent": ""}, {"resident_class": "other", "share_percent": "50",
                                                       "monthly_cap": "lots"},
])
def test_a_bad_subsidy_form_is_refused_and_changes_nothing(app, staff, db, form):
    resp = post(staff.login("dispatcher"), "/console/services/subsidies",
                **{"valid_from": today(app).isoformat(), **form})
    assert resp.status_code == 400 and state(db)[2] == 0
