"""The access log page: admins only, newest first, filtered by who and by case, a page at a time."""
from __future__ import annotations

from datetime import timedelta

import pytest

from models import AccessLog, Case, utcnow


def case(db, code: str) -> Case:
    row = Case(code=code, status="answered", caller="+8613904761234", call_sid="CA" + code.rjust(32, "0"))
    db.add(row)
    db.commit()
    return row


def logged(db, actor: str, case_row: Case | None, minutes_ago: int = 0, action: str = "read", reason: str = ""):
    db.add(AccessLog(at=utcnow() - timedelta(minutes=minutes_ago), actor=actor, route="/console/cases/x",
                     case_id=case_row.id if case_row else None, action=action, reason=reason))
    db.commit()


@pytest.mark.parametrize("role", ["dispatcher", "duty_officer"])
def test_access_log_is_refused_to_everyone_but_admins(staff, db, role):
    logged(db, "zhang", case(db, "123456"), reason="回电核实")
    resp = staff.login(role).get("/console/audit/")
    assert resp.status_code == 403 and "回电核实" not in resp.get_data(as_text=True)


def test_admin_sees_the_access_log_newest_first_with_case_codes_and_reasons(staff, db):
    first, second = case(db, "111111"), case(db, "222222")
    logged(db, "li", first, minutes_ago=10)
    logged(db, "zhang", second, minutes_ago=1, action="reveal", reason="回电核实")
    html = staff.login("admin").get("/console/audit/").get_data(as_text=True)
    assert 'id="access-log"' in html
    assert html.index('data-case-code="222222"') < html.index('data-case-code="111111"')
    assert "回电核实" in html


def test_a_duty_officers_case_view_appears_in_the_access_log(staff, db):
    case(db, "123456")
    staff.login("duty_officer", "zhang").get("/console/cases/123456")
    html = staff.login("admin").get("/console/audit/").get_data(as_text=True)
    assert '<tr data-action="read" data-case-code="123456">' in html and '<td class="actor">zhang</td>' in html


def test_access_log_filters_by_actor(staff, db):
    row = case(db, "123456")
    logged(db, "li", row, reason="li-reason")
    logged(db, "zhang", row, reason="zhang-reason")
    html = staff.login("admin").get("/console/audit/?actor=zhang").get_data(as_text=True)
    assert "zhang-reason" in html and "li-reason" not in html


def test_access_log_filters_by_case_code(staff, db):
    logged(db, "zhang", case(db, "111111"), reason="first-case")
    logged(db, "zhang", case(db, "222222"), reason="second-case")
    html = staff.login("admin").get("/console/audit/?case=222222").get_data(as_text=True)
    assert "second-case" in html and "first-case" not in html


def test_access_log_is_paginated_100_rows_a_page(staff, db):
    row = case(db, "123456")
    for n in range(101):
        logged(db, f"user{n:03d}", row, minutes_ago=n)
    client = staff.login("admin")
    first = client.get("/console/audit/").get_data(as_text=True)
    assert first.count("<tr data-action=") == 100 and "user100" not in first and 'rel="next"' in first
    second = client.get("/console/audit/?page=2").get_data(as_text=True)
    assert second.count("<tr data-action=") == 1 and "user100" in second and 'rel="prev"' in second
