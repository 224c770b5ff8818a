"""dispatch.casework: case transitions on a plain Session, as the webhooks and the worker's replay make them."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dispatch import casework
from models import CallLog, Case, CaseStatus, Message, utcnow
from tests import people


def _call(db, sid="CAcasework", line="child") -> CallLog:
    row = CallLog(call_sid=sid, from_phone="+8613904769999", to_phone="+864768000001", line=line,
                  started_at=utcnow())
    db.add(row)
    db.commit()
    return row


def test_opening_a_case_twice_finds_the_first(db):
    row = _call(db)
    first = casework.open_case(db, row)
    db.commit()
    assert casework.open_case(db, row).id == first.id
    assert [(e.kind, e.detail) for e in first.events] == [("call", "incoming call")]


def test_a_case_opens_ringing_on_the_call_s_start(db):
    row = _call(db)
    case = casework.open_case(db, row)
    assert (case.status, case.created_at) == (CaseStatus.RINGING, row.started_at)


def test_a_case_cannot_open_in_a_status_a_new_case_never_has(db):
    with pytest.raises(ValueError):
        casework._open(db, _call(db), CaseStatus.ANSWERED, "", utcnow())


def test_an_elderly_line_call_leaves_no_case_on_a_message(db, settings):
    row = _call(db, line="elderly")
    casework.on_message(db, row, "", settings, utcnow())
    assert db.scalar(select(func.count(Case.id))) == 0


def test_an_answered_case_stays_answered_when_the_caller_hangs_up(db, settings):
    row = _call(db)
    case = casework.open_case(db, row)
    casework.on_answered(db, row, people.officer(db, "李警官", "+8613904760003", line="child"), utcnow())
    casework.on_missed(db, row, settings, utcnow())
    assert (case.status, [e.kind for e in case.events]) == (CaseStatus.ANSWERED, ["call", "answered"])


def test_a_call_missed_during_an_outage_is_opened_and_alerted_once(db, settings):
    people.officer(db, "李警官", "+8613904760003", line="child")
    row = _call(db)
    casework.missed_during_outage(db, row, settings, row.started_at, utcnow())
    db.commit()
    alerts = db.scalar(select(func.count(Message.id)))
    casework.missed_during_outage(db, row, settings, row.started_at, utcnow())
    db.commit()
    case = db.scalars(select(Case)).one()
    assert (case.status, [e.kind for e in case.events]) == (CaseStatus.MISSED, ["missed", "alert"])
    assert alerts > 0 and db.scalar(select(func.count(Message.id))) == alerts
