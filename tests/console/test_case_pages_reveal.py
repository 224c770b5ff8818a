"""Revealing a case's full caller number in the console: only with a reason, logged, on that response only."""
from __future__ import annotations

import pytest

from tests.console.case_pages import access_rows, make_case, officer, settings  # noqa: F401 - fixtures
from tests.webhooks.child_calls import CALLER

# --- reveal -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_reveal_without_a_reason_reveals_nothing_and_logs_no_reveal(officer, db, reason):
    make_case(db, "123456")
    resp = officer.post("/console/cases/123456/reveal", data={"reason": reason, "csrf_token": officer.csrf},
                        follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert CALLER not in html and "请填写查看原因" in html
    assert access_rows(db, action="reveal") == []


def test_reveal_with_a_reason_shows_the_full_number_and_logs_the_reason(officer, db):
    case = make_case(db, "123456")
    resp = officer.post("/console/cases/123456/reveal", data={"reason": "回电核实", "csrf_token": officer.csrf})
    assert resp.status_code == 200
    assert f'<strong id="caller-revealed">{CALLER}</strong>' in resp.get_data(as_text=True)
    [row] = access_rows(db, action="reveal")
    assert (row.actor, row.case_id, row.reason, row.route) == ("zhang", case.id, "回电核实",
                                                               "/console/cases/123456/reveal")


def test_revealed_number_is_shown_on_that_response_only(officer, db):
    make_case(db, "123456")
    officer.post("/console/cases/123456/reveal", data={"reason": "回电核实", "csrf_token": officer.csrf})
    assert CALLER not in officer.get("/console/cases/123456").get_data(as_text=True)


def test_dispatcher_cannot_reveal_and_nothing_is_logged(staff, db):
    make_case(db, "123456")
    client = staff.login("dispatcher")
    resp = client.post("/console/cases/123456/reveal", data={"reason": "想看", "csrf_token": client.csrf})
    assert resp.status_code == 403 and CALLER not in resp.get_data(as_text=True)
    assert access_rows(db) == []
