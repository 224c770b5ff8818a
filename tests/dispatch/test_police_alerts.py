"""Mandatory reporting (dispatch/police_alerts.py): a case needing a police report alerts the supervisors round
after round (SMS, then calls too) until a console user records the report; the record is checked, kept once,
event- and access-logged; the reconciler finds a lost round. ALERT_REPEAT_SECONDS is 1, ALERT_MAX_REPEATS 2."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dispatch import deferred
from dispatch.intake import record_intake
from dispatch.jobs import schedule
from dispatch.police_alerts import (
    PoliceReport,
    minutes_to_report,
    overdue_police_alerts,
    police_alert,
    record_police_report,
)
from models import AccessLog, Case, Message, utcnow
from tests.casework import (
    CHILD_NAME,
    SUPERVISOR_A,
    SUPERVISOR_B,
    counted_intake,
    critical_intake,
    make_case,
    supervisors,
)
from tests.twilio_fake import count_segments

REPEAT = 3  # ALERT_REPEAT_SECONDS here: short, but longer than a burst worker run on a loaded machine


@pytest.fixture
def settings(settings):
    return settings.with_overrides(alert_repeat_seconds=REPEAT, alert_max_repeats=2)


@pytest.fixture
def sups(db):
    return supervisors(db)


def pending_case(db, settings, now=None, minutes_ago=0):
    """A case whose critical intake was just saved: round 1 went out (committed); returns (case, work)."""
    case = make_case(db, minutes_ago=minutes_ago)
    work = record_intake(db, case, critical_intake(), "zhang", settings, now or utcnow())
    db.commit()
    return case, work


def fresh(db, case_id) -> Case:
    db.expire_all()
    return db.get(Case, case_id)


def messages(db, like: str) -> list[Message]:
    db.expire_all()
    return list(db.scalars(select(Message).where(Message.key.like(like)).order_by(Message.id)))


def report(**fields) -> PoliceReport:
    values = {"reporter": "张警官联系人", "reported_at": utcnow() - timedelta(minutes=1), "station": "林东派出所",
              "report_no": "JB2026-0042"}
    values.update(fields)
    return PoliceReport(**values)


# --- the rounds -------------------------------------------------------------------------------------------

def test_the_first_round_texts_every_supervisor_and_nobody_else(db, settings, sups):
    pending_case(db, settings)
    assert sorted(m.to_phone for m in messages(db, "police-alert:%:1:%")) == sorted([SUPERVISOR_A, SUPERVISOR_B])


def test_the_alert_carries_the_case_code_and_the_mandatory_report_words_never_the_childs_name(db, settings, sups):
    case, _ = pending_case(db, settings)
    body = messages(db, "police-alert:%")[0].body
    assert case.code in body and "需报警" in body and CHILD_NAME not in body and "吵架" not in body


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_alert_fits_one_sms_segment(db, settings, sups, language):
    pending_case(db, settings.with_overrides(ivr_language=language))
    assert count_segments(messages(db, "police-alert:%")[0].body) == 1


def test_a_round_stamps_the_case_and_schedules_the_next_one(db, settings, sups):
    now = utcnow()
    case, work = pending_case(db, settings, now)
    case = fresh(db, case.id)
    assert case.police_alert_round == 1
    assert abs(case.police_next_alert_at - (now + timedelta(seconds=REPEAT))) < timedelta(milliseconds=5)
    assert deferred.of_kind(work, deferred.POLICE_ALERT) == [deferred.police_alert(case.id, 2,
                                                                                   case.police_next_alert_at)]
    assert [e.kind for e in case.events].count("police_alert") == 1


def test_a_due_round_goes_out_and_a_round_already_sent_does_not_go_again(db, settings, sups):
    case, _ = pending_case(db, settings)
    later = utcnow() + timedelta(seconds=REPEAT + 1)
    police_alert(db, case.id, 2, settings, later)
    db.commit()
    assert police_alert(db, case.id, 2, settings, later) == []
    assert len(messages(db, "police-alert:%:2:%")) == 2 and fresh(db, case.id).police_alert_round == 2


def test_a_round_run_early_comes_back_at_its_time(db, settings, sups):
    case, _ = pending_case(db, settings)
    due = fresh(db, case.id).police_next_alert_at
    assert police_alert(db, case.id, 2, settings, utcnow()) == [deferred.police_alert(case.id, 2, due)]
    assert messages(db, "police-alert:%:2:%") == []


def test_after_the_max_repeats_the_supervisors_are_also_called(db, settings, sups):
    case, _ = pending_case(db, settings)
    for round_no in (2, 3):
        police_alert(db, case.id, round_no, settings, utcnow() + timedelta(seconds=(REPEAT + 1) * round_no))
        db.commit()
    assert messages(db, "police-call:%:2:%") == []
    calls = messages(db, "police-call:%:3:%")
    assert sorted(c.to_phone for c in calls) == sorted([SUPERVISOR_A, SUPERVISOR_B])
    assert all(c.channel == "call" and CHILD_NAME not in c.body for c in calls)


def test_a_case_needing_no_police_report_alerts_nobody(db, settings, sups):
    case = make_case(db)
    work = record_intake(db, case, counted_intake(), "zhang", settings, utcnow())
    db.commit()
    # The risk level's home visit has its overdue round; nothing about the police.
    assert [d.kind for d in work] == ["task_overdue"]
    assert messages(db, "police-%") == [] and police_alert(db, case.id, 1, settings, utcnow()) == []


def test_a_correction_does_not_start_the_rounds_again(db, settings, sups):
    case, _ = pending_case(db, settings)
    again = record_intake(db, fresh(db, case.id), critical_intake(), "zhang", settings, utcnow())
    db.commit()
    assert deferred.of_kind(again, deferred.POLICE_ALERT) == [] and len(messages(db, "police-alert:%")) == 2


def test_the_worker_sends_the_rounds_until_the_report_is_recorded(app, db, settings, sups, run_worker,
                                                                  fake_twilio):
    case, work = pending_case(db, settings)
    schedule(app.extensions["hotline"].queue, work)
    run_worker()
    assert sorted(m["to"] for m in fake_twilio.messages) == sorted([SUPERVISOR_A, SUPERVISOR_B])
    time.sleep(REPEAT + 0.1)
    run_worker()  # round 2
    assert len(fake_twilio.messages) == 4
    assert record_police_report(db, fresh(db, case.id), report(), "zhang", utcnow(), settings) == []
    db.commit()
    time.sleep(REPEAT + 0.1)
    run_worker()  # round 3 would be due: the report stopped it
    assert len(fake_twilio.messages) == 4 and fake_twilio.calls == []


# --- the report -------------------------------------------------------------------------------------------

def test_recording_the_report_keeps_its_fields_and_stops_the_rounds(db, settings, sups):
    case, _ = pending_case(db, settings)
    at = utcnow() - timedelta(minutes=3)
    assert record_police_report(db, fresh(db, case.id), report(reported_at=at), "zhang", utcnow(), settings,
                                route="/console/cases/123456/police", remote_addr="10.0.0.9") == []
    db.commit()
    case = fresh(db, case.id)
    assert (case.police_reporter, case.police_station, case.police_report_no) == ("张警官联系人", "林东派出所",
                                                                                  "JB2026-0042")
    assert abs(case.police_reported_at - at) < timedelta(seconds=1) and case.police_recorded_by == "zhang"
    assert case.police_next_alert_at is None
    assert police_alert(db, case.id, 2, settings, utcnow() + timedelta(seconds=5)) == []


def test_recording_the_report_writes_an_event_and_a_write_police_access_row(db, settings, sups):
    case, _ = pending_case(db, settings)
    record_police_report(db, fresh(db, case.id), report(), "zhang", utcnow(), settings,
                         route="/console/cases/123456/police")
    db.commit()
    event = fresh(db, case.id).events[-1]
    assert (event.kind, event.actor) == ("police", "zhang") and "林东派出所" in event.detail
    rows = list(db.scalars(select(AccessLog).where(AccessLog.action == "write:police")))
    assert [(r.actor, r.case_id, r.route) for r in rows] == [("zhang", case.id, "/console/cases/123456/police")]


def test_the_time_from_intake_to_report_is_measured_in_minutes(db, settings, sups):
    case, _ = pending_case(db, settings, now=utcnow() - timedelta(minutes=50), minutes_ago=60)
    record_police_report(db, fresh(db, case.id), report(reported_at=fresh(db, case.id).intake_at
                                                        + timedelta(minutes=42)), "zhang", utcnow(), settings)
    db.commit()
    assert minutes_to_report(fresh(db, case.id)) == 42.0


@pytest.mark.parametrize("fields, problem", [
    ({"reporter": " "}, "intake.err_police_reporter"),
    ({"station": ""}, "intake.err_police_station"),
    ({"report_no": ""}, "intake.err_police_report_no"),
    ({"reporter": "人" * 101}, "intake.err_police_reporter_long"),
    ({"reported_at": None}, "intake.err_police_reported_at"),
    ({"reported_at": utcnow() + timedelta(hours=2)}, "intake.err_police_reported_at_range"),
    ({"reported_at": utcnow() - timedelta(days=3)}, "intake.err_police_reported_at_range"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_bad_report_is_refused_and_changes_nothing(db, settings, sups, fields, problem):
    case, _ = pending_case(db, settings)
    assert problem in record_police_report(db, fresh(db, case.id), report(**fields), "zhang", utcnow(), settings)
    db.rollback()
    case = fresh(db, case.id)
    assert case.police_recorded_at is None and case.police_next_alert_at is not None


def test_a_second_report_is_refused_and_keeps_the_first(db, settings, sups):
    case, _ = pending_case(db, settings)
    record_police_report(db, fresh(db, case.id), report(), "zhang", utcnow(), settings)
    db.commit()
    assert record_police_report(db, fresh(db, case.id), report(station="别处"), "li", utcnow(), settings) == \
        ["intake.err_police_already"]
    assert fresh(db, case.id).police_station == "林东派出所"


def test_a_report_on_a_closed_case_is_refused(db, settings):
    case = make_case(db, status="closed")
    case.closed_at = utcnow()
    db.commit()
    assert record_police_report(db, case, report(), "zhang", utcnow(), settings) == ["intake.err_police_closed"]


# --- the reconciler ---------------------------------------------------------------------------------------

def test_the_reconciler_finds_a_pending_round_that_is_due(db, settings, sups):
    case, _ = pending_case(db, settings)
    due = fresh(db, case.id).police_next_alert_at
    later = utcnow() + timedelta(seconds=5)
    assert overdue_police_alerts(db, later, later, settings) == [deferred.police_alert(case.id, 2, due)]
    assert overdue_police_alerts(db, utcnow() - timedelta(seconds=5), utcnow(), settings) == []


def test_the_reconciler_ignores_a_case_whose_report_is_recorded(db, settings, sups):
    case, _ = pending_case(db, settings)
    record_police_report(db, fresh(db, case.id), report(), "zhang", utcnow(), settings)
    db.commit()
    later = utcnow() + timedelta(seconds=5)
    assert overdue_police_alerts(db, later, later, settings) == []
    assert db.scalar(select(func.count(Case.id)).where(Case.police_required.is_(True))) == 1
