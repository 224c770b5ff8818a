"""Child-line cases in the console: duty officers and admins only, and every view of a case access-logged."""
from __future__ import annotations

import pytest

from tests.console.case_pages import MASKED_CALLER, access_rows, make_case, officer, settings  # noqa: F401 - fixtures
from tests.webhooks.child_calls import CALLER

# --- who may look -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/console/cases/", "/console/cases/123456"], ids=["list", "detail"])
def test_dispatcher_is_refused_cases_and_no_access_log_row_is_written(staff, db, path):
    make_case(db, "123456")
    resp = staff.login("dispatcher").get(path)
    assert resp.status_code == 403
    assert CALLER not in resp.get_data(as_text=True) and MASKED_CALLER not in resp.get_data(as_text=True)
    assert access_rows(db) == []


def test_not_logged_in_is_sent_to_the_login_page_and_nothing_is_logged(client, db):
    make_case(db, "123456")
    resp = client.get("/console/cases/123456")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]
    assert access_rows(db) == []


def test_duty_officers_view_of_a_case_writes_an_access_log_row(officer, db):
    case = make_case(db, "123456")
    assert officer.get("/console/cases/123456").status_code == 200
    [row] = access_rows(db)
    assert (row.actor, row.case_id, row.route, row.action) == ("zhang", case.id, "/console/cases/123456", "read")
    assert row.remote_addr == "127.0.0.1"


def test_admin_may_view_a_case_and_is_logged_too(staff, db):
    make_case(db, "123456")
    assert staff.login("admin", "root").get("/console/cases/123456").status_code == 200
    assert [(r.actor, r.action) for r in access_rows(db)] == [("root", "read")]


def test_unknown_case_is_404_and_logs_nothing(officer, db):
    make_case(db, "123456")
    assert officer.get("/console/cases/654321").status_code == 404
    assert access_rows(db) == []
