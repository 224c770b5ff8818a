"""The demo's casework: a 儿童主任 for every village and a 儿童督导员 for every township, past cases with intake,
police reports and tasks (done on time, late, still open), every event dated when it happened, and only
Chinese in what the Chinese console shows of it."""
from __future__ import annotations

import re
from datetime import timedelta

import phonenumbers
import pytest
from sqlalchemy import select

from hotline.registry.demo import load_demo
from hotline.registry.demo_cases import TOWNSHIPS
from hotline.registry.demo_history import CASES, OPEN_CASES, load_history
from models import TASK_OPEN, Case, CaseEvent, CaseTask, CaseWorker, Message, Order, OrderEvent, utcnow
from tests.console.conftest import Staff

ASCII_LETTERS = re.compile(r"[A-Za-z]")
WORDS = re.compile(r"[A-Za-z][A-Za-z_:-]{2,}")
# The language switch, and the signed-in user's login name, are the only Latin words a Chinese page may show.
ALLOWED = {"English", "admin-user"}


@pytest.fixture
def loaded(db, settings):
    now = utcnow()
    load_demo(db, settings.tz, now)
    db.commit()
    load_history(db, now)
    db.commit()
    return now


def workers(db, role: str) -> list[CaseWorker]:
    return list(db.scalars(select(CaseWorker).where(CaseWorker.role == role, CaseWorker.active.is_(True))))


def cases(db) -> list[Case]:
    return list(db.scalars(select(Case)))


def test_every_village_has_a_child_director(db, loaded):
    have = {(w.township, w.village) for w in workers(db, "child_director")}
    assert have == {(t, v) for t, villages in TOWNSHIPS.items() for v in villages}


def test_every_township_has_a_child_supervisor(db, loaded):
    assert {w.township for w in workers(db, "child_supervisor")} == set(TOWNSHIPS)


def test_case_workers_have_valid_chinese_mobile_numbers_in_e164(db, loaded):
    for worker in db.scalars(select(CaseWorker)):
        number = phonenumbers.parse(worker.phone, None)
        assert phonenumbers.is_valid_number(number) and number.country_code == 86
        assert worker.phone == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_counted_cases_have_children_categories_and_a_risk_level(db, loaded):
    counted = [c for c in cases(db) if c.contact_type in ("child_self", "adult_about_child")]
    assert len(counted) > CASES // 2
    for case in counted:
        assert case.children and case.categories and case.risk_level and case.summary
        assert case.deadline_at is not None and case.intake_at is not None


def test_contact_types_include_uncounted_calls(db, loaded):
    assert {c.contact_type for c in cases(db)} & {"silent", "hang_up", "information", "wrong_number"}


def test_children_carry_aliases_not_names(db, loaded):
    children = [child for case in cases(db) for child in case.children]
    assert children and all(child.name.endswith("（化名）") for child in children)


def test_every_case_needing_a_police_report_has_one(db, loaded):
    required = [c for c in cases(db) if c.police_required]
    assert required, "the demo should show a mandatory report"
    for case in required:
        assert case.police_reported_at and case.police_station and case.police_report_no and case.police_reporter
        assert case.intake_at < case.police_reported_at


def test_tasks_were_done_on_time_late_and_some_are_open(db, loaded):
    tasks = list(db.scalars(select(CaseTask)))
    done = [t for t in tasks if t.status == "done"]
    assert any(t.done_at <= t.due_at for t in done) and any(t.done_at > t.due_at for t in done)
    still = [t for t in tasks if t.status in TASK_OPEN]
    assert still and all(t.due_at > loaded for t in still)


def test_closed_cases_have_every_task_finished_and_open_ones_exist(db, loaded):
    closed = [c for c in cases(db) if c.status == "closed"]
    assert len(closed) == CASES
    assert all(t.status == "done" for c in closed for t in c.tasks)
    open_ = [c for c in cases(db) if c.status != "closed"]
    assert len(open_) == OPEN_CASES and not any(c.police_required and not c.police_reported_at for c in open_)
    assert any(c.deadline_at < loaded for c in open_), "one open case is past its deadline"


def test_tasks_went_by_sms_without_the_childs_name(db, loaded):
    messages = list(db.scalars(select(Message).where(Message.case_id.is_not(None))))
    assert messages
    names = {child.name.removesuffix("（化名）") for case in cases(db) for child in case.children}
    assert not any(name in m.body for m in messages for name in names)


def test_past_events_and_messages_are_dated_when_they_happened(db, loaded):
    # The newest demo case is a day old: nothing may carry the loading time.
    before = loaded - timedelta(hours=12)
    assert all(e.at < before for e in db.scalars(select(CaseEvent)))
    assert all(e.at < before for e in db.scalars(select(OrderEvent)))
    assert all(m.created_at < before and m.sent_at < before for m in db.scalars(select(Message)))
    for case in cases(db):
        assert case.events[0].at == case.created_at
        if case.closed_at:
            assert case.events[-1].at == case.closed_at and case.closed_at < before


def test_no_ascii_letters_in_what_the_chinese_console_shows(db, loaded):
    texts = [(e.detail, e.actor) for e in db.scalars(select(CaseEvent))]
    texts += [(e.detail, e.actor) for e in db.scalars(select(OrderEvent))]
    texts += [(m.body,) for m in db.scalars(select(Message))]
    texts += [(w.name,) for w in db.scalars(select(CaseWorker))]
    for case in cases(db):
        texts.append((case.note, case.summary, case.intake_by, case.called_back_by, case.police_reporter,
                      case.police_station, case.police_report_no, case.police_recorded_by))
        texts += [(c.name, c.township, c.village, c.school) for c in case.children]
        texts += [(t.outcome, t.finished_by, t.created_by) for t in case.tasks]
    english = [text for row in texts for text in row if ASCII_LETTERS.search(text or "")]
    assert english == []


def test_the_chinese_case_and_order_pages_of_the_demo_show_no_english(app, db, loaded):
    client = Staff(app).login("admin")
    paths = ["/console/cases/"] + [f"/console/cases/{c.code}" for c in cases(db)]
    paths += [f"/console/orders/{code}" for code in list(db.scalars(select(Order.code)))[:20]]
    english = set()
    for path in paths:
        html = client.get(path).get_data(as_text=True)
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S))
        english |= {(path, word) for word in WORDS.findall(text) if word not in ALLOWED}
    assert english == set()
