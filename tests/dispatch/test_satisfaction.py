"""The satisfaction callback: one automated call after an order completes; the resident's key is the rating."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from dispatch.jobs import satisfaction_call_job
from dispatch.reconcile import reconcile
from dispatch.satisfaction import after_quiet_hours, due_at
from models import Message, Order, OrderEvent, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.orders import answer as sms_answer, call_in, only_order, scheduled_jobs
from tests.twilio_client import parse_twiml

TECH = "+8613800000001"
QUESTION = "满意请按1，一般请按2，不满意请按3"
JOB = "dispatch.jobs.satisfaction_call_job"


@pytest.fixture
def delay() -> int:
    """SATISFACTION_DELAY_SECONDS for the test (0: the call goes with the next worker run)."""
    return 0


@pytest.fixture
def settings(settings, delay):
    """The test settings with the satisfaction delay under test."""
    return settings.with_overrides(satisfaction_delay_seconds=delay)


def complete(tw, db, run_worker, phone: str = people.RESIDENT_MOBILE) -> Order:
    """A resident calls in, the technician accepts, arrives and reports the order done by SMS."""
    people.resident(db, phones=(phone,))
    people.technician(db, "张师傅", TECH)
    call_in(tw, phone)
    run_worker()
    for body in ("1", "到达", "完成"):
        tw.sms(from_=TECH, to=ELDERLY_NUMBER, body=body)
    return only_order(db)


def satisfaction_calls(fake_twilio) -> list[dict]:
    """The Calls.json requests the fake Twilio accepted for satisfaction calls."""
    return [c for c in fake_twilio.calls if "/twilio/voice/satisfaction" in (c["twiml"] or "")]


def answer(tw, order: Order, path: str | None = None, signed: bool = True, **params):
    """The resident's side of the call: the webhook Twilio posts once the call is answered, or a key."""
    call = tw.new_call(from_=ELDERLY_NUMBER, to=people.RESIDENT_MOBILE, direction="outbound-api")
    path = path or f"/twilio/voice/satisfaction?order={order.id}&end=1"
    merged = {**call.base_params(), **params}
    return tw.post(path, merged, signed=signed)


def spoken(root) -> str:
    """Everything the TwiML says, in order."""
    return "".join("".join(say.itertext()) for say in root.iter("Say"))


@pytest.fixture
def called(tw, db, run_worker, fake_twilio) -> Order:
    """A completed order whose satisfaction call was placed."""
    complete(tw, db, run_worker)
    run_worker()
    assert len(satisfaction_calls(fake_twilio)) == 1
    return only_order(db)


# --- placing the call ---------------------------------------------------------------------------------

def test_a_completed_order_gets_one_call_to_the_resident_that_opens_the_satisfaction_webhook(
        tw, db, run_worker, fake_twilio):
    order = complete(tw, db, run_worker)
    assert satisfaction_calls(fake_twilio) == []  # nothing is sent before the worker runs
    run_worker()
    [call] = satisfaction_calls(fake_twilio)
    assert call["to"] == people.RESIDENT_MOBILE and call["from_"] == ELDERLY_NUMBER
    [redirect] = parse_twiml_text(call["twiml"]).iter("Redirect")
    assert redirect.text == f"{PUBLIC_BASE_URL}/twilio/voice/satisfaction?order={order.id}&end=1"
    assert only_order(db).satisfaction_call_at is not None


def test_the_answered_call_asks_slowly_in_mandarin_for_one_key_repeats_once_then_says_goodbye(called, tw):
    root = parse_twiml(answer(tw, called))
    gathers = list(root.iter("Gather"))
    assert len(gathers) == 2
    for gather in gathers:
        assert gather.get("numDigits") == "1"
        assert gather.get("action") == f"{PUBLIC_BASE_URL}/twilio/voice/satisfaction?order={called.id}&end=1"
        say = gather.findall("Say")[-1]
        assert say.get("language") == "cmn-CN" and say.find("prosody").get("rate") == "slow"
        assert QUESTION in spoken(gather)
    assert [verb.tag for verb in root][-2:] == ["Say", "Hangup"]
    assert "再见" in "".join(root.findall("Say")[-1].itertext())


def test_completing_twice_running_the_job_twice_and_reconciling_still_place_one_call(
        called, app, tw, db, run_worker, fake_twilio):
    assert "已结束" in answer_sms(tw, f"完成 {called.code}")  # a second "done" finds the order closed
    app.extensions["hotline"].queue.enqueue(satisfaction_call_job, called.id)  # the job once more
    rt = run_worker()
    reconcile(rt)
    run_worker()
    assert len(satisfaction_calls(fake_twilio)) == 1
    db.expire_all()
    assert db.scalars(select(Message).where(Message.key == f"satisfaction:{called.id}")).one().channel == "call"


def test_a_landline_resident_is_called_too(tw, db, run_worker, fake_twilio):
    complete(tw, db, run_worker, phone=people.RESIDENT_LANDLINE)
    run_worker()
    [call] = satisfaction_calls(fake_twilio)
    assert call["to"] == people.RESIDENT_LANDLINE


@pytest.mark.parametrize("delay", [600])
def test_the_call_is_scheduled_the_configured_delay_after_completion(tw, app, db, run_worker, fake_twilio):
    order = complete(tw, db, run_worker)
    [job] = [j for j in scheduled_jobs(app) if j.func_name == JOB]
    assert job.args == (order.id,)
    at = app.extensions["hotline"].queue.scheduled_job_registry.get_scheduled_time(job)
    assert abs(at - (order.completed_at + timedelta(seconds=600))) < timedelta(seconds=1)
    run_worker()  # not due yet: neither the worker nor its reconcile pass calls early
    assert satisfaction_calls(fake_twilio) == [] and only_order(db).satisfaction_call_at is None


@pytest.mark.parametrize("when, expected", [
    ("2026-03-10 20:59", "2026-03-10 20:59"),   # before the quiet hours: as due
    ("2026-03-10 21:00", "2026-03-11 08:00"),   # evening: the next morning
    ("2026-03-11 03:30", "2026-03-11 08:00"),   # small hours: this morning
    ("2026-03-11 08:00", "2026-03-11 08:00"),   # the quiet hours are over
])
def test_a_call_due_in_the_quiet_hours_waits_for_the_morning(when, expected):
    tz = ZoneInfo("Asia/Shanghai")
    local = datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    moved = after_quiet_hours(local.astimezone(timezone.utc), "21-8", tz)
    assert moved.astimezone(tz).strftime("%Y-%m-%d %H:%M") == expected


def test_quiet_hours_within_one_day_and_none_at_all():
    tz = ZoneInfo("Asia/Shanghai")
    noon = datetime(2026, 3, 10, 12, 30, tzinfo=tz)
    assert after_quiet_hours(noon, "12-14", tz) == datetime(2026, 3, 10, 14, 0, tzinfo=tz)
    assert after_quiet_hours(noon, "", tz) == noon


def test_an_order_completed_in_the_quiet_hours_is_called_when_they_end(tw, db, run_worker, fake_twilio, settings):
    order = complete(tw, db, run_worker)
    hour = order.completed_at.astimezone(settings.tz).hour
    quiet = settings.with_overrides(satisfaction_quiet_hours=f"{hour}-{(hour + 2) % 24}")  # now is quiet
    run_worker(satisfaction_quiet_hours=quiet.satisfaction_quiet_hours)
    assert satisfaction_calls(fake_twilio) == [] and only_order(db).satisfaction_call_at is None
    wake = due_at(order, quiet).astimezone(settings.tz)
    assert (wake.hour, wake.minute) == ((hour + 2) % 24, 0)


def test_a_resident_taken_off_the_register_is_not_called(tw, db, run_worker, fake_twilio):
    order = complete(tw, db, run_worker)
    order.resident.active = False
    db.commit()
    run_worker()
    assert satisfaction_calls(fake_twilio) == []


def test_with_no_delay_the_call_is_not_scheduled_but_queued_at_once(tw, app, db, run_worker):
    complete(tw, db, run_worker)
    assert [j for j in scheduled_jobs(app) if j.func_name == JOB] == []
    assert JOB in [j.func_name for j in app.extensions["hotline"].queue.get_jobs()]


@pytest.mark.parametrize("delay", [600])
def test_a_call_whose_job_redis_lost_is_placed_by_the_reconciler_once_due(tw, app, db, run_worker, fake_twilio):
    order = complete(tw, db, run_worker)
    app.extensions["hotline"].queue.connection.flushdb()  # Redis lost the scheduled job
    db.execute(update(Order).where(Order.id == order.id).values(completed_at=utcnow() - timedelta(seconds=601)))
    db.commit()
    run_worker()
    [call] = satisfaction_calls(fake_twilio)
    assert call["to"] == people.RESIDENT_MOBILE


@pytest.mark.parametrize("delay", [600])
def test_an_order_cancelled_before_its_call_is_due_is_not_called(tw, app, db, run_worker, fake_twilio):
    order = complete(tw, db, run_worker)
    # The lifecycle has no move from completed to cancelled (set_status refuses it): the row is written as is,
    # as an older version or a hand edit could have left it; the job must still read the status it finds.
    db.execute(update(Order).where(Order.id == order.id).values(status="cancelled",
                                                                completed_at=utcnow() - timedelta(seconds=601)))
    db.commit()
    app.extensions["hotline"].queue.enqueue(satisfaction_call_job, order.id)
    run_worker()
    assert satisfaction_calls(fake_twilio) == [] and only_order(db).satisfaction_call_at is None


def test_an_unregistered_order_without_a_number_is_not_called(app, db, run_worker, fake_twilio):
    order = Order(code="300300", category="housekeeping", unregistered=True, status="completed",
                  completed_at=utcnow() - timedelta(seconds=5), created_at=utcnow() - timedelta(hours=1))
    db.add(order)
    db.commit()
    app.extensions["hotline"].queue.enqueue(satisfaction_call_job, order.id)
    run_worker()
    assert fake_twilio.calls == [] and only_order(db).satisfaction_call_at is None


def test_an_unregistered_caller_with_a_number_is_called(app, db, run_worker, fake_twilio):
    order = Order(code="300301", category="housekeeping", unregistered=True, status="completed",
                  caller_phone=people.RESIDENT_MOBILE, completed_at=utcnow() - timedelta(seconds=5),
                  created_at=utcnow() - timedelta(hours=1))
    db.add(order)
    db.commit()
    run_worker()  # no job was ever queued: the reconciler finds the call owed
    assert [c["to"] for c in satisfaction_calls(fake_twilio)] == [people.RESIDENT_MOBILE]


# --- the resident's answer ----------------------------------------------------------------------------

def test_pressing_3_stores_the_rating_and_flags_the_order_for_follow_up(called, tw, db):
    root = parse_twiml(answer(tw, called, Digits="3"))
    assert [verb.tag for verb in root] == ["Say", "Hangup"] and "工作人员" in spoken(root)
    order = only_order(db)
    assert (order.rating, order.needs_follow_up) == (3, True) and order.rated_at is not None
    events = db.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                 OrderEvent.kind.in_(("rating", "needs_follow_up")))).all()
    assert [(e.kind, e.actor) for e in events] == [("rating", "resident"), ("needs_follow_up", "resident")]


def test_pressing_1_stores_a_satisfied_rating_without_follow_up(called, tw, db):
    root = parse_twiml(answer(tw, called, Digits="1"))
    assert "感谢" in spoken(root) and root[-1].tag == "Hangup"
    order = only_order(db)
    assert (order.rating, order.needs_follow_up) == (1, False)


def test_an_unsigned_answer_is_refused_and_changes_nothing(called, tw, db):
    assert answer(tw, called, signed=False, Digits="3").status_code == 403
    order = only_order(db)
    assert (order.rating, order.rated_at, order.needs_follow_up) == (None, None, False)


def test_another_key_asks_again_once_and_stores_nothing(called, tw, db):
    root = parse_twiml(answer(tw, called, Digits="9"))
    again = f"{PUBLIC_BASE_URL}/twilio/voice/satisfaction?order={called.id}&again=1&end=1"
    assert [g.get("action") for g in root.iter("Gather")] == [again, again]
    assert "无效" in spoken(root) and QUESTION in spoken(root)
    assert only_order(db).rating is None
    again_path = f"/twilio/voice/satisfaction?order={called.id}&again=1&end=1"
    root = parse_twiml(answer(tw, called, path=again_path, Digits="9"))
    assert [verb.tag for verb in root] == ["Say", "Hangup"]
    assert only_order(db).rating is None


def test_only_the_first_rating_counts(called, tw, db):
    answer(tw, called, Digits="1")
    root = parse_twiml(answer(tw, called, Digits="3"))
    assert root[-1].tag == "Hangup"
    order = only_order(db)
    assert (order.rating, order.needs_follow_up) == (1, False)
    assert len(db.scalars(select(OrderEvent).where(OrderEvent.kind == "rating")).all()) == 1


@pytest.mark.parametrize("order_id", ["999999", "abc", ""])
def test_an_unknown_order_gets_a_polite_goodbye_and_nothing_changes(called, tw, db, order_id):
    root = parse_twiml(answer(tw, called, path=f"/twilio/voice/satisfaction?order={order_id}&end=1", Digits="3"))
    assert [verb.tag for verb in root] == ["Say", "Hangup"] and "再见" in spoken(root)
    assert only_order(db).rating is None


def test_an_order_that_was_never_called_cannot_be_rated(tw, db, run_worker):
    order = complete(tw, db, run_worker)  # completed, call not yet placed (the worker has not run)
    root = parse_twiml(answer(tw, order, Digits="3"))
    assert [verb.tag for verb in root] == ["Say", "Hangup"]
    assert only_order(db).rating is None


# --- helpers ------------------------------------------------------------------------------------------

def parse_twiml_text(xml: str):
    """The <Response> root of a TwiML string (a call's inline TwiML)."""
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return root


def answer_sms(tw, body: str) -> str:
    """The technician's SMS answer to `body`."""
    return sms_answer(tw.sms(from_=TECH, to=ELDERLY_NUMBER, body=body))
