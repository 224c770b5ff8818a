"""Writes to a case are access-logged like reads: an acknowledgement from the console, by SMS or by voice
("write:ack"), a close ("write:close"); a refused write logs nothing. `flask outbox --full` logs the cases
whose full call-back numbers it shows."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AccessLog, Case, Message, case_event, utcnow
from tests.conftest import ELDERLY_NUMBER
from tests.webhooks.child_calls import TIER1_A, case_of, staff as child_line_chain, voicemail_call


@pytest.fixture
def chain(db):
    return child_line_chain(db)


def make_case(db, code: str, status: str) -> Case:
    case = Case(code=code, status=status, caller="+8613904761234", call_sid="CA" + code.rjust(32, "0"),
                created_at=utcnow() - timedelta(minutes=5))
    db.add(case)
    case_event(db, case, "call", "incoming call")
    db.commit()
    return case


def writes(db) -> list[tuple[str, int | None, str, str]]:
    db.expire_all()
    return [(r.actor, r.case_id, r.action, r.route) for r in
            db.scalars(select(AccessLog).where(AccessLog.action.like("write:%")).order_by(AccessLog.id))]


def test_a_console_acknowledgement_is_logged(staff, db):
    case = make_case(db, "222001", "voicemail")
    client = staff.login("duty_officer", "zhang")
    client.post(f"/console/cases/{case.code}/ack", data={"csrf_token": client.csrf})
    assert writes(db) == [("zhang", case.id, "write:ack", f"/console/cases/{case.code}/ack")]


def test_a_console_close_is_logged_without_the_note(staff, db):
    case = make_case(db, "222002", "answered")
    client = staff.login("duty_officer", "zhang")
    client.post(f"/console/cases/{case.code}/close", data={"csrf_token": client.csrf, "note": "已转介学校"})
    assert writes(db) == [("zhang", case.id, "write:close", f"/console/cases/{case.code}/close")]
    db.expire_all()
    assert "已转介学校" not in [r.reason for r in db.scalars(select(AccessLog))]


@pytest.mark.parametrize(("status", "action", "data"), [
    ("acknowledged", "ack", {}),  # already acknowledged
    ("voicemail", "close", {"note": "x"}),  # not acknowledged yet
    ("answered", "close", {"note": ""}),  # no note
], ids=["ack-twice", "close-unacknowledged", "close-without-note"])
def test_a_refused_write_logs_nothing(staff, db, status, action, data):
    case = make_case(db, "222003", status)
    client = staff.login("duty_officer")
    client.post(f"/console/cases/{case.code}/{action}", data={"csrf_token": client.csrf, **data})
    assert writes(db) == []


def test_a_dispatcher_cannot_write_and_nothing_is_logged(staff, db):
    case = make_case(db, "222004", "voicemail")
    client = staff.login("dispatcher")
    assert client.post(f"/console/cases/{case.code}/ack", data={"csrf_token": client.csrf}).status_code == 403
    assert writes(db) == []


def test_an_sms_acknowledgement_is_logged_for_the_officer(tw, db, chain):
    code = case_of(db, voicemail_call(tw)).code
    tw.sms(from_=TIER1_A, to=ELDERLY_NUMBER, body=f"收到 {code}")
    case = db.scalar(select(Case).where(Case.code == code))
    assert writes(db) == [(chain["a"].name, case.id, "write:ack", "sms")]


def test_outbox_full_logs_each_case_it_shows(runner, db):
    case = make_case(db, "222005", "voicemail")
    db.add(Message(key="case-alert:x", to_phone="+8613800005678", body="个案222005有留言,请回电13904761234。",
                   case_id=case.id, status="local"))
    db.add(Message(key="order:x", to_phone="+8613800005679", body="服务单", status="local"))
    db.commit()
    assert "13904761234" in runner.invoke(args=["outbox", "--full"]).output
    db.expire_all()
    rows = list(db.scalars(select(AccessLog)))
    assert [(r.actor, r.case_id, r.action, r.route) for r in rows] == [("cli", case.id, "read", "flask outbox --full")]


def test_outbox_masked_logs_nothing(runner, db):
    case = make_case(db, "222006", "voicemail")
    db.add(Message(key="case-alert:y", to_phone="+8613800005678", body="请回电13904761234。", case_id=case.id,
                   status="local"))
    db.commit()
    assert "13904761234" not in runner.invoke(args=["outbox"]).output
    db.expire_all()
    assert list(db.scalars(select(AccessLog))) == []
