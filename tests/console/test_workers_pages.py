"""The case-worker registry page: duty officers and admins list, search, add, edit and (de)activate 儿童主任,
儿童督导员 and partners; a bad form changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import CaseWorker
from tests.console.conftest import csrf_of
from tests.dispatch.test_child_tasks import DIRECTOR, registry, worker

ROUTES = [("get", "/console/workers/"), ("get", "/console/workers/new"), ("post", "/console/workers/new"),
          ("get", "/console/workers/1"), ("post", "/console/workers/1"), ("post", "/console/workers/1/active")]
FORM = {"name": "孙丽", "phone": "138 0476 3099", "role": "child_director", "township": "林东镇", "village": "北村"}


@pytest.fixture
def people(db):
    return registry(db)


@pytest.fixture
def officer(staff):
    return staff.login("duty_officer", "zhang")


def post(client, path: str, **form):
    return client.post(path, data={"csrf_token": client.csrf, **form})


def rows(db) -> list[tuple]:
    db.expire_all()
    return [(w.name, w.phone, w.role, w.township, w.village, w.active)
            for w in db.scalars(select(CaseWorker).order_by(CaseWorker.id))]


# --- who may -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_dispatcher_is_refused_every_workers_route_and_nothing_changes(staff, db, people, method, path):
    before = rows(db)
    client = staff.login("dispatcher")
    resp = client.get(path) if method == "get" else post(client, path, **FORM, active="0")
    assert resp.status_code == 403 and rows(db) == before


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_visitor_is_sent_to_sign_in_on_every_workers_route(client, db, people, method, path):
    before = rows(db)
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    resp = client.get(path) if method == "get" else client.post(path, data={**FORM, "active": "0",
                                                                           "csrf_token": token})
    assert resp.status_code == 302 and "/console/login" in resp.location and rows(db) == before


@pytest.mark.parametrize("role", ["duty_officer", "admin"])
def test_duty_officers_and_admins_list_the_workers_with_masked_numbers(staff, db, people, role):
    html = staff.login(role).get("/console/workers/").get_data(as_text=True)
    assert "李梅" in html and "王强" in html and "+86****3001" in html and DIRECTOR not in html
    assert "儿童主任" in html and "儿童督导员" in html


@pytest.mark.parametrize("role", ["duty_officer", "admin"])
def test_duty_officers_and_admins_add_a_worker(staff, db, role):
    resp = post(staff.login(role), "/console/workers/new", **FORM)
    assert resp.status_code == 303
    assert rows(db) == [("孙丽", "+8613804763099", "child_director", "林东镇", "北村", True)]


def test_the_nav_shows_the_workers_page_to_duty_officers_only(staff):
    assert 'data-nav="workers.index"' in staff.login("duty_officer").get("/console/cases/").get_data(as_text=True)
    assert 'data-nav="workers.index"' not in staff.login("dispatcher").get("/console/technicians").get_data(
        as_text=True)


# --- search --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "found"), [("李", ["李梅"]), ("西城", ["赵兰"]), ("0476 3002", ["王强"]),
                                              ("林东镇", ["李梅", "王强", "赵兰"])])
def test_search_by_name_place_or_phone_digits(officer, people, query, found):
    html = officer.get("/console/workers/", query_string={"q": query}).get_data(as_text=True)
    assert [name for name in ("李梅", "王强", "赵兰") if f">{name}</a>" in html] == found


def test_filter_by_role_and_status(officer, db, people):
    people["other"].active = False
    db.commit()
    html = officer.get("/console/workers/?role=child_director&status=active").get_data(as_text=True)
    assert ">李梅</a>" in html and ">王强</a>" not in html and ">赵兰</a>" not in html


def test_garbage_filters_are_ignored(officer, people):
    resp = officer.get("/console/workers/?role=x&status=y&q=" + "a" * 500)
    assert resp.status_code == 200


# --- edit and activate ---------------------------------------------------------------------------------

def test_an_edit_is_saved_with_the_number_in_e164(officer, db, people):
    wid = people["director"].id
    resp = post(officer, f"/console/workers/{wid}", **{**FORM, "name": "李梅", "phone": "13804763001"})
    assert resp.status_code == 303
    assert rows(db)[0] == ("李梅", "+8613804763001", "child_director", "林东镇", "北村", True)


@pytest.mark.parametrize("change", [{"name": ""}, {"phone": "12345"}, {"role": "village_doctor"}, {"village": ""},
                                    {"township": ""}, {"name": "名" * 101}, {"phone": DIRECTOR},
                                    {"name": "a\x00b"}],
                         ids=["no-name", "bad-phone", "bad-role", "director-no-village", "no-township", "long-name",
                              "taken-phone", "nul"])
def test_a_bad_form_changes_nothing(officer, db, people, change):
    before = rows(db)
    resp = post(officer, "/console/workers/new", **{**FORM, **change})
    assert resp.status_code == 400 and rows(db) == before


def test_a_taken_number_names_its_owner(officer, people):
    html = post(officer, "/console/workers/new", **{**FORM, "phone": DIRECTOR}).get_data(as_text=True)
    assert "李梅" in html and "已登记" in html


def test_a_partner_needs_no_village(officer, db):
    post(officer, "/console/workers/new", **{**FORM, "role": "hospital", "village": "", "township": ""})
    assert rows(db)[0][2:5] == ("hospital", "", "")


def test_deactivating_and_activating_a_worker(officer, db, people):
    wid = people["director"].id
    post(officer, f"/console/workers/{wid}/active", active="0")
    assert rows(db)[0][5] is False
    post(officer, f"/console/workers/{wid}/active", active="1")
    assert rows(db)[0][5] is True


def test_a_garbage_active_value_changes_nothing(officer, db, people):
    resp = post(officer, f"/console/workers/{people['director'].id}/active", active="maybe")
    assert resp.status_code == 400 and rows(db)[0][5] is True


def test_an_unknown_worker_is_not_found(officer, people):
    assert officer.get("/console/workers/999999").status_code == 404
    assert post(officer, "/console/workers/999999/active", active="0").status_code == 404


def test_a_deactivated_worker_gets_no_default_task(officer, db, people, settings):
    from tests.dispatch.test_child_tasks import defaults, make_case

    post(officer, f"/console/workers/{people['director'].id}/active", active="0")
    case = make_case(db)
    defaults(db, case, settings)
    assert case.tasks[0].assignee_id == people["supervisor"].id


def test_the_edit_page_shows_the_full_number_to_edit_and_the_role_in_chinese(officer, db):
    found = worker(db, "周红", "+8613804763055", role="counselling")
    html = officer.get(f"/console/workers/{found.id}").get_data(as_text=True)
    assert "+8613804763055" in html and "心理辅导" in html
