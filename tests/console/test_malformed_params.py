"""Malformed ids and numbers in console URLs, forms and API queries: a 4xx answer, never a 500."""
from __future__ import annotations

import pytest

from tests.conftest import API_TOKEN

HUGE_ID = "9" * 30
JUST_BEYOND_ANY_ID = str(2**31)
BAD_NUMBERS = ("²", "-1", "1e9", "٣", HUGE_ID)

GET_BY_ID = ("/console/orders/{}", "/console/technicians/{}", "/console/residents/{}", "/console/officers/{}")
POST_BY_ID = ("/console/orders/{}/cancel", "/console/orders/{}/reassign", "/console/orders/{}/follow-up",
              "/console/technicians/{}/active", "/console/residents/{}/active", "/console/officers/{}/active",
              "/console/technicians/{}", "/console/rota/shifts/{}", "/console/rota/shifts/{}/delete")
QUERY_NUMBERS = ("/console/rota/?edit={}", "/console/technicians?page={}", "/console/residents?page={}",
                 "/console/officers?page={}", "/console/cases/?page={}", "/console/outbox/?page={}",
                 "/console/audit/?page={}")
API_QUERIES = ("/api/orders?limit={}", "/api/cases?limit={}")


@pytest.fixture
def admin(staff):
    return staff.login("admin")


@pytest.mark.parametrize("raw", (HUGE_ID, JUST_BEYOND_ANY_ID, "٣", "²", "0"))
@pytest.mark.parametrize("path", GET_BY_ID)
def test_a_page_of_an_id_no_record_can_have_is_404(admin, path, raw):
    assert admin.get(path.format(raw)).status_code == 404


@pytest.mark.parametrize("raw", (HUGE_ID, JUST_BEYOND_ANY_ID, "٣"))
@pytest.mark.parametrize("path", POST_BY_ID)
def test_an_action_on_an_id_no_record_can_have_is_404(admin, path, raw):
    assert admin.post(path.format(raw), data={"csrf_token": admin.csrf}).status_code == 404


@pytest.mark.parametrize("raw", BAD_NUMBERS)
@pytest.mark.parametrize("path", QUERY_NUMBERS)
def test_a_malformed_number_in_a_console_query_is_a_4xx(admin, path, raw):
    assert 400 <= admin.get(path.format(raw)).status_code < 500


def test_a_malformed_number_gets_the_consoles_bad_request_page_in_its_language(admin):
    resp = admin.get("/console/outbox/?page=²")
    assert resp.status_code == 400 and "请求无效" in resp.get_data(as_text=True)


def test_an_edit_of_a_shift_beyond_every_id_shows_the_empty_form(admin):
    assert admin.get(f"/console/rota/?edit={JUST_BEYOND_ANY_ID}").status_code == 200


def test_a_huge_page_number_is_the_last_page_not_an_error(admin):
    assert admin.get("/console/outbox/?page=99999999").status_code == 200


@pytest.mark.parametrize("raw", BAD_NUMBERS)
@pytest.mark.parametrize("path", API_QUERIES)
def test_a_malformed_limit_in_the_api_is_400(client, db, path, raw):
    resp = client.get(path.format(raw), headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert resp.status_code == 400 and resp.get_json() == {"error": "bad query parameter"}


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_a_malformed_technician_in_a_reassign_is_a_4xx(admin, db, raw):
    from tests import people
    from tests.orders import make_order

    order = make_order(admin.application, db, people.resident(db))
    resp = admin.post(f"/console/orders/{order.id}/reassign", data={"csrf_token": admin.csrf, "technician": raw})
    assert resp.status_code < 500


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_a_malformed_officer_in_a_new_shift_is_refused_by_the_form(staff, raw):
    client = staff.login("duty_officer")
    form = {"csrf_token": client.csrf, "officer_id": raw, "line": "elderly", "tier": "1",
            "starts_at": "2030-12-02T08:00", "ends_at": "2030-12-02T20:00"}
    assert client.post("/console/rota/shifts", data=form).status_code == 400


@pytest.mark.parametrize("day", ("9999-12-31", "0001-01-01", "٢٠٢٦-١٢-٠٢", "2026-02-30"))
def test_a_week_at_the_ends_of_the_calendar_shows_this_week(staff, day):
    assert staff.login("duty_officer").get(f"/console/rota/?week={day}").status_code == 200


@pytest.mark.parametrize("path", ("/console/reports/", "/console/reports/export.csv"))
@pytest.mark.parametrize("first, last", (("0001-01-01", "0001-01-31"), ("9999-12-01", "9999-12-31")))
def test_a_report_range_at_the_ends_of_the_calendar_is_refused_not_a_500(admin, path, first, last):
    assert admin.get(f"{path}?from={first}&to={last}").status_code == 200
