"""Acknowledging (alerts stop as with an officer's SMS) and closing a case with a note in the console; CSRF."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from models import Case, Message, utcnow
from tests.conftest import ELDERLY_NUMBER
from tests.console.case_pages import access_rows, ack, chain, make_case, officer, settings  # noqa: F401 - fixtures
from tests.orders import answer
from tests.webhooks.child_calls import CALLER, TIER1_A, case_of, voicemail_call


def fresh(db, code: str) -> Case:
    db.expire_all()
    return db.scalar(select(Case).where(Case.code == code))


def test_console_ack_acknowledges_the_case_as_the_user_and_stops_the_alert_schedule(officer, db, tw, chain):
    call = voicemail_call(tw)
    assert case_of(db, call).next_alert_at is not None
    ack(officer, case_of(db, call).code)
    case = case_of(db, call)
    assert case.status == "acknowledged" and case.acknowledged_at is not None and case.next_alert_at is None
    assert case.acknowledged_by_id is None  # a console user is not an officer
    assert (case.events[-1].kind, case.events[-1].actor) == ("acknowledged", "zhang")
    assert case.events[-1].detail == "zhang by console"


def test_no_further_alert_round_after_a_console_ack(officer, db, tw, chain, run_worker):
    call = voicemail_call(tw)
    run_worker()  # round 1
    due = case_of(db, call).next_alert_at
    ack(officer, case_of(db, call).code)
    time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.05)
    run_worker()  # round 2 would be due now
    db.expire_all()
    assert db.scalar(select(func.count(Message.id)).where(Message.key.like("case-alert:%:2:%"))) == 0
    assert case_of(db, call).alert_round == 1


def test_officer_acking_by_sms_after_a_console_ack_is_told_who_was_first(officer, db, tw, chain):
    call = voicemail_call(tw)
    code = case_of(db, call).code
    ack(officer, code)
    reply = answer(tw.sms(from_=TIER1_A, to=ELDERLY_NUMBER, body=f"ACK {code}"))
    assert "zhang" in reply and code in reply
    assert [e.kind for e in case_of(db, call).events].count("acknowledged") == 1


@pytest.mark.parametrize("status", ["answered", "acknowledged", "closed", "ringing"])
def test_ack_of_a_case_that_needs_none_is_refused_and_changes_nothing(officer, db, status):
    make_case(db, "123456", status=status)
    html = ack(officer, "123456").get_data(as_text=True)
    assert "无需确认" in html
    case = fresh(db, "123456")
    assert case.status == status and [e.kind for e in case.events] == ["call"]


# --- close ------------------------------------------------------------------------------------------------

def close(client, code: str, note: str):
    return client.post(f"/console/cases/{code}/close", data={"note": note, "csrf_token": client.csrf},
                       follow_redirects=True)


@pytest.mark.parametrize("note", ["", "  \n "], ids=["empty", "blank"])
def test_close_needs_a_note_and_changes_nothing_without_one(officer, db, note):
    make_case(db, "123456", status="acknowledged")
    assert "请填写结案说明" in close(officer, "123456", note).get_data(as_text=True)
    case = fresh(db, "123456")
    assert case.status == "acknowledged" and case.closed_at is None


def test_close_with_a_note_closes_the_case_as_the_user(officer, db):
    make_case(db, "123456", status="acknowledged").contact_type = "information"  # an intake: no risk, no tasks
    db.commit()
    close(officer, "123456", "已回电，孩子安全，转社工跟进")
    case = fresh(db, "123456")
    assert case.status == "closed" and case.closed_at is not None and case.note == "已回电，孩子安全，转社工跟进"
    assert (case.events[-1].kind, case.events[-1].actor, case.events[-1].detail) == \
        ("closed", "zhang", "已回电，孩子安全，转社工跟进")


def test_closing_an_unacknowledged_case_is_refused_until_it_is_acknowledged(officer, db):
    make_case(db, "123456", status="voicemail")
    assert "请先确认再结案" in close(officer, "123456", "处理完毕").get_data(as_text=True)
    assert fresh(db, "123456").status == "voicemail"


def test_closing_a_closed_case_again_keeps_the_first_note(officer, db):
    make_case(db, "123456", status="acknowledged").contact_type = "information"
    db.commit()
    close(officer, "123456", "第一次")
    assert "不能结案" in close(officer, "123456", "第二次").get_data(as_text=True)
    assert fresh(db, "123456").note == "第一次"


# --- CSRF -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("action, data", [("reveal", {"reason": "回电"}), ("ack", {}), ("close", {"note": "完"})])
def test_case_action_without_the_csrf_token_is_400_and_changes_nothing(officer, db, action, data):
    make_case(db, "123456", status="voicemail" if action == "ack" else "acknowledged")
    resp = officer.post(f"/console/cases/123456/{action}", data=data)
    assert resp.status_code == 400 and CALLER not in resp.get_data(as_text=True)
    case = fresh(db, "123456")
    assert [e.kind for e in case.events] == ["call"] and access_rows(db) == []
