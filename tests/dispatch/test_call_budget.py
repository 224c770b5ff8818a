"""The per-recipient call budget (CALL_BUDGET): its setting, how it counts, holding calls over it or refused by the
provider for the number's limit, and placing held calls later only while they are still wanted."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch import deferred
from dispatch.budget import SEND, Verdict, parse_budget
from dispatch.call_budget import DEFAULT, call_windows, decide_call
from dispatch.case_alerts import alert_round
from dispatch.held_calls import CANCELLED, CANCELLED_PREFIX, unwanted
from dispatch.jobs import flush_budget, overdue_budget_flushes
from dispatch.outbox import deliver, queue_message
from dispatch.providers import build_provider
from hotline.config import PROJECT_ROOT, load_settings
from models import Message, Order, Verification, Visit, new_code, utcnow
from tests.dispatch.budget_helpers import OTHER, age, case, rows_to, sent_row
from tests.webhooks.child_calls import SUPERVISOR, staff

ALIBABA = parse_budget(DEFAULT, "CALL_BUDGET", DEFAULT)
SCRIPT = '{"lang": "zh-CN", "sentences": ["请回电"]}'


@pytest.fixture
def settings(settings):
    """The test settings with the default call budget (Alibaba's: 1/60,5/3600,20/86400) instead of off."""
    return settings.with_overrides(call_budget=DEFAULT)


def _deliver(db, settings, row: Message, provider=None) -> Message:
    deliver(db, row.id, provider or build_provider(settings), settings.sender, (), call_windows(settings))
    db.expire_all()
    return db.get(Message, row.id)


def _call(db, settings, key: str, to: str = SUPERVISOR, provider=None, **about) -> Message:
    """Queue one call and send it as the send job does (held when over the budget)."""
    row = queue_message(db, key, to, SCRIPT, channel="call", **about)
    db.commit()
    return _deliver(db, settings, row, provider)


def _held(db, key: str, to: str = SUPERVISOR, **about) -> Message:
    row = Message(key=key, direction="outbound", channel="call", to_phone=to, body=SCRIPT, status="held", **about)
    db.add(row)
    db.commit()
    return row


def _decide(db, key: str = "notify:accepted:1", to: str = SUPERVISOR):
    row = Message(key=key, direction="outbound", channel="call", to_phone=to, body=SCRIPT, status="sending")
    db.add(row)
    db.commit()
    return decide_call(db, row, ALIBABA, utcnow())


def _flush(db, settings, message_id: int, provider=None, now=None) -> deferred.Work:
    """Run the budget flush as its job does (committed), then send what it queued."""
    follow = flush_budget(db, message_id, settings, now or utcnow())
    db.commit()
    for sent_id in deferred.message_ids(follow):
        deliver(db, sent_id, provider or build_provider(settings), settings.sender, (), call_windows(settings))
    db.expire_all()
    return follow


def _order(db, status: str = "accepted") -> Order:
    order = Order(code=new_code(db), category="housekeeping", status=status, caller_phone=OTHER)
    db.add(order)
    db.commit()
    return order


# --- the setting ----------------------------------------------------------------------------------

def test_the_default_call_budget_is_alibabas_per_number_limits(tmp_path):
    assert load_settings({"INSTANCE_PATH": str(tmp_path)}).call_budget == "1/60,5/3600,20/86400"


def test_call_budget_off_sets_no_limit(tmp_path):
    settings = load_settings({"INSTANCE_PATH": str(tmp_path), "CALL_BUDGET": "off"})
    assert settings.call_budget == "off" and call_windows(settings) == ()


@pytest.mark.parametrize("raw", ["1/0", "0/60", "one/60", "1 a minute", "1/60,"])
def test_a_malformed_call_budget_stops_the_start_naming_call_budget_only(tmp_path, raw):
    with pytest.raises(ValueError, match="CALL_BUDGET") as error:
        load_settings({"INSTANCE_PATH": str(tmp_path), "CALL_BUDGET": raw})
    assert "SMS_BUDGET" not in str(error.value) and "calls per S seconds" in str(error.value)


def test_the_worker_refuses_to_start_with_a_bad_call_budget(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path), "CALL_BUDGET": "5 a day"}
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "worker.py"), "--burst"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "CALL_BUDGET must look like 1/60,5/3600,20/86400" in done.stderr


# --- counting and holding -------------------------------------------------------------------------

def test_a_call_within_the_budget_is_placed(app, db):
    sent_row(db, SUPERVISOR, 61, channel="call")
    assert _decide(db) == SEND


def test_a_second_call_within_the_minute_is_held_until_the_minute_has_passed(app, db):
    sent_row(db, SUPERVISOR, 20, channel="call")
    decision = _decide(db)
    assert decision.verdict is Verdict.HOLD
    assert timedelta(seconds=35) < decision.until - utcnow() <= timedelta(seconds=40)


def test_a_sixth_call_in_an_hour_waits_for_the_oldest_to_leave_the_hour(app, db):
    for minutes in (50, 40, 30, 20, 10):
        sent_row(db, SUPERVISOR, minutes * 60, channel="call")
    decision = _decide(db)
    assert decision.verdict is Verdict.HOLD
    assert timedelta(minutes=9) < decision.until - utcnow() <= timedelta(minutes=10)


def test_a_21st_call_in_a_day_waits_for_the_oldest_to_leave_the_day(app, db):
    for i in range(20):  # one every 70 minutes: never more than one a minute or five an hour
        sent_row(db, SUPERVISOR, (23 * 60 + 50 - 70 * i) * 60, channel="call")
    decision = _decide(db)
    assert decision.verdict is Verdict.HOLD
    assert timedelta(minutes=9) < decision.until - utcnow() <= timedelta(minutes=10)


def test_sms_and_calls_to_other_numbers_do_not_count(app, db):
    sent_row(db, SUPERVISOR, 10, channel="sms")
    sent_row(db, OTHER, 10, channel="call")
    assert _decide(db) == SEND


def test_a_call_to_a_number_with_calls_held_waits_behind_them(app, db):
    _held(db, "notify:accepted:1")
    assert _decide(db, "notify:accepted:2").verdict is Verdict.HOLD


def test_a_second_call_is_held_and_not_placed(app, db, settings, fake_twilio):
    first, second = _call(db, settings, "notify:accepted:1"), _call(db, settings, "notify:accepted:2")
    assert (first.status, second.status) == ("sent", "held")
    assert [c["to"] for c in fake_twilio.calls] == [SUPERVISOR]


def test_with_the_call_budget_off_nothing_is_held(app, db, settings, fake_twilio):
    off = settings.with_overrides(call_budget="off")
    rows = [_call(db, off, f"notify:accepted:{i}") for i in range(3)]
    assert [r.status for r in rows] == ["sent"] * 3 and len(fake_twilio.calls) == 3


# --- placing held calls ---------------------------------------------------------------------------

def test_a_held_call_waits_for_the_budget_and_the_flush_comes_back_then(app, db, settings):
    _call(db, settings, "notify:accepted:1")
    held = _call(db, settings, "notify:accepted:2")
    [again] = flush_budget(db, held.id, settings, utcnow())
    assert again.kind == deferred.BUDGET_FLUSH and timedelta(seconds=55) < again.at - utcnow() <= timedelta(seconds=60)
    assert db.get(Message, held.id).status == "held"


def test_a_held_call_is_placed_by_the_budget_flush_at_the_next_place(app, db, settings, fake_twilio):
    _call(db, settings, "notify:accepted:1")
    held = _call(db, settings, "notify:accepted:2")
    age(db, SUPERVISOR, 60)
    _flush(db, settings, held.id)
    assert db.get(Message, held.id).status == "sent" and len(fake_twilio.calls) == 2


def test_held_calls_are_placed_one_per_place_oldest_first(app, db, settings):
    sent_row(db, SUPERVISOR, 10, channel="call")
    first, second = _held(db, "notify:accepted:1"), _held(db, "notify:accepted:2")
    later = utcnow() + timedelta(seconds=60)
    follow = flush_budget(db, first.id, settings, later)
    assert deferred.message_ids(follow) == [first.id]
    [again] = deferred.of_kind(follow, deferred.BUDGET_FLUSH)
    assert again.args == (second.id,) and again.at == later + timedelta(seconds=60)


def test_the_reconciler_finds_numbers_whose_held_calls_may_go(app, db, settings):
    held = _held(db, "notify:accepted:1")
    _held(db, "notify:accepted:2", to=OTHER)
    sent_row(db, OTHER, 10, channel="call")
    assert overdue_budget_flushes(db, utcnow(), utcnow(), settings) == [deferred.budget_flush(held.id)]


# --- still wanted? ---------------------------------------------------------------------------------

def test_an_acknowledged_cases_held_call_is_not_placed(app, db, settings, fake_twilio):
    acked = case(db, "100001")
    held = _held(db, f"case-call:{acked.id}:3:1", case_id=acked.id)
    acked.status = "acknowledged"
    db.commit()
    assert deferred.message_ids(_flush(db, settings, held.id)) == []
    row = db.get(Message, held.id)
    assert (row.status, row.error) == (CANCELLED, CANCELLED_PREFIX + "case_done") and fake_twilio.calls == []


def test_an_unacknowledged_cases_held_calls_go_out_as_one_call(app, db, settings, fake_twilio):
    waiting = case(db, "100002")
    held = [_held(db, f"case-call:{waiting.id}:{r}:1", case_id=waiting.id) for r in (3, 4, 5)]
    _flush(db, settings, held[0].id)
    assert [m.status for m in rows_to(db, SUPERVISOR)] == ["sent", "merged", "merged"]
    assert {m.merged_into_id for m in rows_to(db, SUPERVISOR)[1:]} == {held[0].id}
    assert len(fake_twilio.calls) == 1


def test_the_cases_sms_rounds_go_on_while_its_calls_are_held(app, db, settings):
    staff(db)
    waiting = case(db, "100003")
    _held(db, f"case-call:{waiting.id}:3:1", case_id=waiting.id)
    alert_round(db, waiting.id, 4, settings.with_overrides(alert_max_repeats=2), utcnow())
    db.commit()
    keys = [m.key for m in db.scalars(select(Message).where(Message.case_id == waiting.id))]
    assert any(k.startswith(f"case-alert:{waiting.id}:4:") for k in keys)
    assert any(k.startswith(f"case-call:{waiting.id}:4:") for k in keys)


def test_a_reported_cases_held_police_call_is_not_placed(app, db):
    reported = case(db, "100004")
    reported.police_required, reported.police_recorded_at = True, utcnow()
    held = _held(db, f"police-call:{reported.id}:3:1", case_id=reported.id)
    assert unwanted(db, held) == "police_done"


@pytest.mark.parametrize("verification, attempts, reason", [
    (Verification.VERIFIED, 1, "visit_answered"), (Verification.PENDING, 2, "try_superseded"),
    (Verification.PENDING, 1, None)])
def test_a_held_arrival_call_is_wanted_only_for_the_current_try_of_a_pending_visit(app, db, verification,
                                                                                   attempts, reason):
    order = _order(db, "arrived")
    visit = Visit(order_id=order.id, arrived_at=utcnow(), verification=verification.value,
                  verify_attempts=attempts)
    db.add(visit)
    db.commit()
    assert unwanted(db, _held(db, f"arrival:{visit.id}:1", to=OTHER, order_id=order.id)) == reason


def test_a_held_satisfaction_call_is_not_placed_once_the_order_is_rated(app, db):
    order = _order(db, "completed")
    held = _held(db, f"satisfaction:{order.id}", to=OTHER, order_id=order.id)
    assert unwanted(db, held) is None
    order.rating = 1
    db.commit()
    assert unwanted(db, held) == "rated"


def test_a_held_notice_for_a_cancelled_order_is_not_placed(app, db):
    order = _order(db, "cancelled")
    assert unwanted(db, _held(db, f"notify:accepted:{order.id}", to=OTHER, order_id=order.id)) == "order_cancelled"


