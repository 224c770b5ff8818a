"""Repeat contacts and same-child links on the case page: "N earlier contacts" from the same number (never shown),
none for withheld numbers; an officer links two cases as the same child and unlinks them, each written on both
cases (event and access log)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.case_links import earlier_contacts, identifiable
from models import AccessLog, Case, CaseLink
from tests.casework import CALLER, make_case

OTHER_CALLER = "+8613904760000"


@pytest.fixture
def officer(staff):
    return staff.login("duty_officer", "zhang")


def page(client, code: str) -> str:
    return client.get(f"/console/cases/{code}").get_data(as_text=True)


def post(client, code: str, action: str, other: str):
    return client.post(f"/console/cases/{code}/{action}", data={"other": other, "csrf_token": client.csrf},
                       follow_redirects=True)


def section(html: str) -> str:
    start = html.index('id="case-repeat"')
    return html[start:html.index("</section>", start)]


def fresh(db, code: str) -> Case:
    db.expire_all()
    return db.scalar(select(Case).where(Case.code == code))


def links(db) -> list[tuple[int, int]]:
    db.expire_all()
    return [(link.case_id, link.other_case_id) for link in db.scalars(select(CaseLink))]


def writes(db, action: str) -> list[tuple[str, int | None]]:
    db.expire_all()
    return sorted((r.actor, r.case_id) for r in db.scalars(select(AccessLog).where(AccessLog.action == action)))


# --- earlier contacts -------------------------------------------------------------------------------------

def test_a_repeat_caller_shows_how_many_earlier_contacts_with_links_and_no_number(officer, db):
    make_case(db, "111111", minutes_ago=300)
    make_case(db, "222222", minutes_ago=100)
    make_case(db, "333333", caller=OTHER_CALLER, minutes_ago=50)
    make_case(db, "444444")
    repeat = section(page(officer, "444444"))
    assert "该号码此前来电2次" in repeat
    assert 'href="/console/cases/222222"' in repeat and 'href="/console/cases/111111"' in repeat
    assert "333333" not in repeat and CALLER not in repeat and "1234" not in repeat


def test_later_cases_from_the_number_are_not_earlier_contacts(officer, db):
    make_case(db, "111111", minutes_ago=300)
    make_case(db, "222222", minutes_ago=100)
    assert "该号码此前来电" not in section(page(officer, "111111"))


@pytest.mark.parametrize("caller", ["", "anonymous", "+266696687", "Restricted"])
def test_withheld_or_anonymous_callers_have_no_earlier_contacts(officer, db, caller):
    make_case(db, "111111", caller=caller, minutes_ago=60)
    make_case(db, "222222", caller=caller)
    assert 'id="earlier-none"' in section(page(officer, "222222"))


def test_earlier_contacts_are_newest_first(db):
    make_case(db, "111111", minutes_ago=300)
    make_case(db, "222222", minutes_ago=100)
    assert [c.code for c in earlier_contacts(db, make_case(db, "333333"))] == ["222222", "111111"]


@pytest.mark.parametrize("caller, expected", [(CALLER, True), ("anonymous", False), ("", False), ("+86", False)])
def test_only_a_valid_number_identifies_a_caller(caller, expected):
    assert identifiable(caller) is expected


# --- links --------------------------------------------------------------------------------------------------

def test_linking_two_cases_lists_each_on_the_others_page(officer, db):
    first, second = make_case(db, "111111", caller=OTHER_CALLER), make_case(db, "222222")
    html = post(officer, "222222", "links", "111111").get_data(as_text=True)
    assert "已与个案111111关联" in html
    assert links(db) == [(first.id, second.id)]  # stored once, the lower id first
    assert 'data-case-code="111111"' in section(html)
    assert 'data-case-code="222222"' in section(page(officer, "111111"))


def test_linking_writes_an_event_and_an_access_log_row_on_both_cases(officer, db):
    first, second = make_case(db, "111111"), make_case(db, "222222")
    post(officer, "111111", "links", "222222")
    assert writes(db, "write:link") == sorted([("zhang", first.id), ("zhang", second.id)])
    assert fresh(db, "111111").events[-1].detail == "与个案222222为同一儿童"
    assert (fresh(db, "222222").events[-1].kind, fresh(db, "222222").events[-1].actor) == ("link", "zhang")


@pytest.mark.parametrize("other, text", [("123456", "不能与本个案自身关联"), ("999999", "没有这个个案号"),
                                         ("", "没有这个个案号"), ("1" * 50, "没有这个个案号")])
def test_a_bad_link_is_refused_with_a_clear_message_and_writes_nothing(officer, db, other, text):
    make_case(db, "123456")
    assert text in post(officer, "123456", "links", other).get_data(as_text=True)
    assert links(db) == [] and writes(db, "write:link") == []


def test_linking_the_same_pair_twice_is_refused_from_either_side(officer, db):
    make_case(db, "111111"), make_case(db, "222222")
    post(officer, "111111", "links", "222222")
    assert "两个个案已经关联" in post(officer, "222222", "links", "111111").get_data(as_text=True)
    assert len(links(db)) == 1 and len(writes(db, "write:link")) == 2


def test_unlinking_removes_the_link_and_is_written_on_both_cases(officer, db):
    first, second = make_case(db, "111111"), make_case(db, "222222")
    post(officer, "111111", "links", "222222")
    html = post(officer, "222222", "unlink", "111111").get_data(as_text=True)
    assert "已取消与个案111111的关联" in html and 'id="linked-none"' in html
    assert links(db) == []
    assert writes(db, "write:unlink") == sorted([("zhang", first.id), ("zhang", second.id)])
    assert fresh(db, "111111").events[-1].kind == "unlink"


def test_unlinking_cases_that_are_not_linked_is_refused(officer, db):
    make_case(db, "111111"), make_case(db, "222222")
    assert "两个个案没有关联" in post(officer, "111111", "unlink", "222222").get_data(as_text=True)
    assert writes(db, "write:unlink") == []


@pytest.mark.parametrize("action", ["links", "unlink"])
def test_a_dispatcher_cannot_link_or_unlink(staff, db, action):
    make_case(db, "111111"), make_case(db, "222222")
    client = staff.login("dispatcher")
    assert post(client, "111111", action, "222222").status_code == 403
    assert links(db) == [] and writes(db, f"write:{action.rstrip('s')}") == []


@pytest.mark.parametrize("action", ["links", "unlink"])
def test_an_admin_may_link_and_unlink(staff, db, action):
    make_case(db, "111111"), make_case(db, "222222")
    client = staff.login("admin", "root")
    post(client, "111111", "links", "222222")
    if action == "unlink":
        post(client, "111111", "unlink", "222222")
    assert links(db) == ([] if action == "unlink" else [(fresh(db, "111111").id, fresh(db, "222222").id)])


@pytest.mark.parametrize("action", ["links", "unlink"])
def test_a_visitor_cannot_link_or_unlink(client, db, action):
    make_case(db, "111111"), make_case(db, "222222")
    resp = client.post(f"/console/cases/111111/{action}", data={"other": "222222"})
    assert resp.status_code in (302, 400, 401) and links(db) == []
