"""The per-recipient SMS budget (SMS_BUDGET): its setting, how it counts, and what each kind of SMS does over it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.budget import (
    DEFAULT,
    SEND,
    SKIPPED_ERROR,
    Decision,
    Verdict,
    Window,
    allowed_at,
    decide,
    next_allowed,
    parse_budget,
)
from dispatch.outbox import deliver, queue_message
from dispatch.providers import build_provider
from hotline.config import load_settings
from models import Message, OfferAttempt, OrderEvent, utcnow
from tests import people
from tests.dispatch.budget_helpers import OFFICER, OTHER, rows_to, sent_row, settings  # noqa: F401 - fixture
from tests.dispatch.dispatch_helpers import T1, T2
from tests.orders import call_in, only_order, sent_to

GOALERT = parse_budget(DEFAULT)


def _send(db, settings, key: str, to: str = OFFICER, channel: str = "sms", body: str = "提醒") -> Message:
    row = queue_message(db, key, to, body, channel=channel)
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender, parse_budget(settings.sms_budget))
    db.expire_all()
    return db.get(Message, row.id)


def _decide(db, key: str, to: str = OFFICER, channel: str = "sms", case_id: int | None = None) -> Decision:
    row = Message(key=key, direction="outbound", channel=channel, to_phone=to, body="x", status="sending",
                  case_id=case_id)
    db.add(row)
    db.commit()
    return decide(db, row, GOALERT, utcnow())


# --- the setting ----------------------------------------------------------------------------------

def test_the_default_budget_is_goalerts_caps_one_a_minute_five_in_15_minutes_twelve_an_hour(tmp_path):
    assert load_settings({"INSTANCE_PATH": str(tmp_path)}).sms_budget == DEFAULT
    assert GOALERT == (Window(1, 60), Window(5, 900), Window(12, 3600))


def test_sms_budget_off_sets_no_limit(tmp_path):
    settings = load_settings({"INSTANCE_PATH": str(tmp_path), "SMS_BUDGET": "off"})
    assert settings.sms_budget == "off" and parse_budget(settings.sms_budget) == ()


def test_a_budget_is_kept_with_its_windows_in_order(tmp_path):
    settings = load_settings({"INSTANCE_PATH": str(tmp_path), "SMS_BUDGET": " 10/3600, 2/120 "})
    assert settings.sms_budget == "2/120,10/3600"


@pytest.mark.parametrize("raw", ["1/0", "0/60", "five/60", "1 per minute", "-1/60", "1/60,", "1/60/2"])
def test_a_malformed_budget_stops_the_start_up_naming_sms_budget(tmp_path, raw):
    with pytest.raises(ValueError, match="SMS_BUDGET"):
        load_settings({"INSTANCE_PATH": str(tmp_path), "SMS_BUDGET": raw})


# --- counting -------------------------------------------------------------------------------------

def test_a_number_under_every_window_may_get_an_sms_now():
    now = utcnow()
    assert allowed_at([now - timedelta(seconds=61)], GOALERT, now) is None


def test_one_sms_in_the_last_minute_makes_the_next_wait_for_the_minute_to_pass():
    now = utcnow()
    assert allowed_at([now - timedelta(seconds=20)], GOALERT, now) == now + timedelta(seconds=40)


def test_five_sms_in_15_minutes_make_the_next_wait_until_the_oldest_leaves_the_window():
    now = utcnow()
    times = [now - timedelta(minutes=m) for m in (14, 11, 8, 5, 2)]
    assert allowed_at(times, GOALERT, now) == now + timedelta(minutes=1)


def test_twelve_sms_in_an_hour_make_the_next_wait_for_the_hour_window():
    now = utcnow()
    times = [now - timedelta(minutes=59 - 4 * i) for i in range(12)]  # 59 .. 15 minutes ago
    assert allowed_at(times, GOALERT, now) == now + timedelta(minutes=1)


def test_the_budget_counts_sms_sent_to_that_number(app, db):
    sent_row(db, OFFICER, 10)
    assert next_allowed(db, OFFICER, utcnow(), GOALERT) is not None


@pytest.mark.parametrize("status", ["local", "delivered", "failed"])
def test_the_budget_counts_sms_sent_by_any_provider_delivered_or_not(app, db, status):
    sent_row(db, OFFICER, 10, status=status)
    assert next_allowed(db, OFFICER, utcnow(), GOALERT) is not None


def test_an_sms_the_provider_refused_is_not_counted(app, db):
    db.add(Message(key="refused:1", direction="outbound", channel="sms", to_phone=OFFICER, body="x",
                   status="failed", error="21610 opted out"))
    db.commit()
    assert next_allowed(db, OFFICER, utcnow(), GOALERT) is None


def test_sms_to_another_number_and_calls_are_not_counted(app, db):
    sent_row(db, OTHER, 10)
    sent_row(db, OFFICER, 10, channel="call")
    assert next_allowed(db, OFFICER, utcnow(), GOALERT) is None


def test_an_sms_being_sent_right_now_is_counted(app, db):
    db.add(Message(key="sending:1", direction="outbound", channel="sms", to_phone=OFFICER, body="x",
                   status="sending", claimed_at=utcnow()))
    db.commit()
    assert next_allowed(db, OFFICER, utcnow(), GOALERT) is not None


# --- the rules ------------------------------------------------------------------------------------

def test_an_sms_within_the_budget_is_sent(app, db):
    assert _decide(db, "assigned:1:1") == SEND


def test_an_sms_over_the_budget_is_held_until_the_budget_allows(app, db):
    sent_row(db, OFFICER, 15)
    decision = _decide(db, "assigned:1:1")
    assert decision.verdict is Verdict.HOLD
    assert timedelta(seconds=40) < decision.until - utcnow() <= timedelta(seconds=45)


def test_an_offer_over_the_budget_is_skipped(app, db):
    sent_row(db, T1, 15)
    assert _decide(db, "offer:7", to=T1) == Decision(Verdict.SKIP)


@pytest.mark.parametrize("key", ["reply:SM123", "late-reply:SM456"])
def test_an_answer_to_the_persons_own_sms_is_sent_over_the_budget(app, db, key):
    sent_row(db, OFFICER, 5)
    assert _decide(db, key) == SEND


def test_a_call_is_placed_over_the_sms_budget(app, db):
    sent_row(db, OFFICER, 5)
    assert _decide(db, "case-call:1:3:1", channel="call") == SEND


def test_with_the_budget_off_everything_is_sent(app, db):
    sent_row(db, OFFICER, 5)
    row = db.scalar(select(Message))
    assert decide(db, row, (), utcnow()) == SEND


# --- through the providers ------------------------------------------------------------------------

def test_a_second_sms_within_the_minute_is_held_and_not_sent(app, db, settings, fake_twilio):
    first, second = _send(db, settings, "assigned:1:1"), _send(db, settings, "assigned:2:1")
    assert (first.status, second.status) == ("sent", "held")
    assert sent_to(fake_twilio) == [OFFICER]


def test_the_budget_holds_in_local_mode_too(app, db, settings):
    local = settings.with_overrides(sms_provider="local", voice_provider="local", phone_provider="local")
    first, second = _send(db, local, "assigned:1:1"), _send(db, local, "assigned:2:1")
    assert (first.status, second.status) == ("local", "held")


def test_a_reply_goes_out_through_the_provider_over_the_budget(app, db, settings, fake_twilio):
    _send(db, settings, "assigned:1:1")
    assert _send(db, settings, "reply:SM1").status == "sent"
    assert sent_to(fake_twilio) == [OFFICER, OFFICER]


# --- offers ---------------------------------------------------------------------------------------

def _two_technicians(db):
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=2.0)


def test_an_offer_to_a_technician_over_budget_goes_to_the_next_technician(tw, db, run_worker, fake_twilio):
    _two_technicians(db)
    sent_row(db, T1, 20)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    assert sent_to(fake_twilio) == [T2]
    db.expire_all()
    offers = db.scalars(select(OfferAttempt).order_by(OfferAttempt.id)).all()
    assert [(o.technician.phone, o.status) for o in offers] == [(T1, "failed"), (T2, "pending")]


def test_a_skipped_offer_is_a_failed_row_that_says_why(tw, db, run_worker):
    _two_technicians(db)
    sent_row(db, T1, 20)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    [skipped] = [m for m in rows_to(db, T1) if (m.key or "").startswith("offer:")]
    assert (skipped.status, skipped.error, skipped.sent_at) == ("failed", SKIPPED_ERROR, None)


def test_a_skipped_offer_is_an_event_on_the_order_naming_the_budget(tw, db, run_worker):
    _two_technicians(db)
    sent_row(db, T1, 20)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    order = only_order(db)
    events = db.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                 OrderEvent.kind == "offer_failed")).all()
    assert [e.detail for e in events] == ["张师傅:已达每号短信上限,改派下一位"]
