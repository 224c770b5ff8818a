"""Hand-built child-line cases with intake, police reports and tasks, for the casework report tests.

Times are Asia/Shanghai (UTC+8): a local time before 08:00 is the previous day in UTC, so A1, A4, A5 and A9
sit on a month boundary that UTC midnight would put on the other side. Minutes are after the call's start
unless said otherwise; "intake" is intake_at, "deadline" is deadline_at; NOW = 2026-05-10 12:00.

  A0 2026-02-28 23:59  answered +10 s, child_self, violence                       (February: outside)
  A1 2026-03-01 00:10  answered +15 s, child_self, violence/physical + violence/emotional + family/conflict,
                       critical, intake +10, police +30 after intake, deadline 03-04, closed;
                       task done 20 h after intake (due 24 h): on time                 (UTC: 02-28 16:10)
  A2 2026-03-10 09:00  answered +45 s, adult_about_child, school/bullying, urgent, intake +5,
                       deadline 03-17 09:05, still open; task due 72 h after intake, done at 80 h: late
  A3 2026-03-20 14:00  answered +90 s, silent, no category, no deadline
  A4 2026-03-31 23:50  missed, called back +10, acknowledged +4, child_self, mental_health/suicidal, critical,
                       intake +12, police +90 after intake, deadline 04-03, closed;
                       task due 04-01 still open (overdue); a second task cancelled   (UTC: 03-31 15:50)
  A5 2026-04-01 07:30  voicemail, called back +30, acknowledged +20, adult_about_child, violence/sexual +
                       missing/run_away, critical, intake +35, police required but not reported,
                       deadline 04-04, still open; task due 05-20 open (not due yet);
                       task acknowledged by its worker, due 05-01 (overdue)          (UTC: 03-31 23:30)
  A6 2026-04-15 10:00  missed, never called back or acknowledged, no intake
  A7 2026-04-20 16:00  voicemail, called back +60, acknowledged +50, information, not_urgent, intake +62,
                       deadline 05-20 17:02, still open; task due 04-27 10:00, done at that very minute
  A8 2026-04-28 20:00  answered +20 s (the limit), child_self, violence/physical, critical, intake +8,
                       police +15 after intake, deadline 05-01 20:08, closed
  A9 2026-05-01 06:00  answered +5 s, child_self, violence, critical, police required, open past its
                       deadline, a task overdue                                    (May: outside; UTC: 04-30 22:00)
Every case carries the caller +8613904761234 and a child named 小明 (the report must show neither).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from models import Case, CaseCategory, CaseChild, CaseEvent, CaseTask

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALLER = "+8613904761234"
CHILD = "小明"


def local(text: str) -> datetime:
    """An aware instant from "YYYY-MM-DD HH:MM" Shanghai time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


NOW = local("2026-05-10 12:00")


def _case(code: str, created: str, status: str, **columns) -> Case:
    at = local(created)
    case = Case(code=code, status=status, caller=CALLER, call_sid=f"CA{code}", created_at=at, **columns)
    case.children = [CaseChild(name=CHILD, sex="male", age=9)]
    return case


def _seconds(at: str, seconds: int) -> datetime:
    return local(at) + timedelta(seconds=seconds)


def _minutes(at: str, minutes: float) -> datetime:
    return local(at) + timedelta(minutes=minutes)


def _categories(*pairs: tuple[str, str]) -> list[CaseCategory]:
    return [CaseCategory(category=category, sub=sub) for category, sub in pairs]


def _events(at: str, *kinds: str) -> list[CaseEvent]:
    return [CaseEvent(kind="call", at=local(at))] + [CaseEvent(kind=kind, at=local(at)) for kind in kinds]


def cases() -> list[Case]:
    """The cases A0-A9 above (not yet added to a session)."""
    a0 = _case("A0", "2026-02-28 23:59", "answered", answered_at=_seconds("2026-02-28 23:59", 10),
               contact_type="child_self")
    a0.categories = _categories(("violence", "physical"))
    a0.events = _events("2026-02-28 23:59", "answered")

    t1 = "2026-03-01 00:10"
    a1 = _case("A1", t1, "closed", answered_at=_seconds(t1, 15), contact_type="child_self", risk_level="critical",
               intake_at=_minutes(t1, 10), police_required=True, police_reported_at=_minutes(t1, 10 + 30),
               deadline_at=local("2026-03-04 00:20"), closed_at=local("2026-03-03 12:00"))
    a1.categories = _categories(("violence", "physical"), ("violence", "emotional"), ("family", "conflict"))
    a1.tasks = [CaseTask(kind="home_visit", status="done", due_at=_minutes(t1, 10 + 24 * 60),
                         done_at=_minutes(t1, 10 + 20 * 60))]
    a1.events = _events(t1, "answered")

    t2 = "2026-03-10 09:00"
    a2 = _case("A2", t2, "answered", answered_at=_seconds(t2, 45), contact_type="adult_about_child",
               risk_level="urgent", intake_at=_minutes(t2, 5), deadline_at=local("2026-03-17 09:05"))
    a2.categories = _categories(("school", "bullying"))
    a2.tasks = [CaseTask(kind="home_visit", status="done", due_at=_minutes(t2, 5 + 72 * 60),
                         done_at=_minutes(t2, 5 + 80 * 60))]
    a2.events = _events(t2, "answered")

    t3 = "2026-03-20 14:00"
    a3 = _case("A3", t3, "answered", answered_at=_seconds(t3, 90), contact_type="silent", intake_at=_minutes(t3, 2))
    a3.events = _events(t3, "answered")

    t4 = "2026-03-31 23:50"
    a4 = _case("A4", t4, "closed", called_back_at=_minutes(t4, 10), acknowledged_at=_minutes(t4, 4),
               contact_type="child_self", risk_level="critical", intake_at=_minutes(t4, 12), police_required=True,
               police_reported_at=_minutes(t4, 12 + 90), deadline_at=local("2026-04-04 00:02"),
               closed_at=local("2026-04-02 09:00"))
    a4.categories = _categories(("mental_health", "suicidal"))
    a4.tasks = [CaseTask(kind="home_visit", status="open", due_at=local("2026-04-01 23:52")),
                CaseTask(kind="relief", status="cancelled", due_at=local("2026-04-10 00:00"),
                         cancelled_at=local("2026-04-02 08:00"))]
    a4.events = _events(t4, "missed", "acknowledged")

    t5 = "2026-04-01 07:30"
    a5 = _case("A5", t5, "acknowledged", recording_url="https://api.twilio.com/rec/RE5",
               called_back_at=_minutes(t5, 30), acknowledged_at=_minutes(t5, 20), contact_type="adult_about_child",
               risk_level="critical", intake_at=_minutes(t5, 35), police_required=True,
               deadline_at=local("2026-04-04 08:05"))
    a5.categories = _categories(("violence", "sexual"), ("missing", "run_away"))
    a5.tasks = [CaseTask(kind="home_visit", status="open", due_at=local("2026-05-20 09:00")),
                CaseTask(kind="referral", status="acknowledged", due_at=local("2026-05-01 09:00"),
                         acknowledged_at=local("2026-04-02 10:00"))]
    a5.events = _events(t5, "voicemail", "acknowledged")

    t6 = "2026-04-15 10:00"
    a6 = _case("A6", t6, "missed")
    a6.events = _events(t6, "missed")

    t7 = "2026-04-20 16:00"
    a7 = _case("A7", t7, "acknowledged", recording_url="https://api.twilio.com/rec/RE7",
               called_back_at=_minutes(t7, 60), acknowledged_at=_minutes(t7, 50), contact_type="information",
               risk_level="not_urgent", intake_at=_minutes(t7, 62), deadline_at=local("2026-05-20 17:02"))
    a7.tasks = [CaseTask(kind="home_visit", status="done", due_at=local("2026-04-27 10:00"),
                         done_at=local("2026-04-27 10:00"))]
    a7.events = _events(t7, "voicemail", "acknowledged")

    t8 = "2026-04-28 20:00"
    a8 = _case("A8", t8, "closed", answered_at=_seconds(t8, 20), contact_type="child_self", risk_level="critical",
               intake_at=_minutes(t8, 8), police_required=True, police_reported_at=_minutes(t8, 8 + 15),
               deadline_at=local("2026-05-01 20:08"), closed_at=local("2026-04-30 10:00"))
    a8.categories = _categories(("violence", "physical"))
    a8.events = _events(t8, "answered")

    t9 = "2026-05-01 06:00"
    a9 = _case("A9", t9, "answered", answered_at=_seconds(t9, 5), contact_type="child_self", risk_level="critical",
               intake_at=_minutes(t9, 5), police_required=True, deadline_at=local("2026-05-04 06:05"))
    a9.categories = _categories(("violence", "physical"))
    a9.tasks = [CaseTask(kind="home_visit", status="open", due_at=local("2026-05-02 06:05"))]
    a9.events = _events(t9, "answered")
    return [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9]


def add_casework(db) -> None:
    """Commit the cases A0-A9 above."""
    db.add_all(cases())
    db.commit()
