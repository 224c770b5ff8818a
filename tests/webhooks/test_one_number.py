"""Both lines on one number (HOTLINE_CHILD_LINE_KEY=9): the elderly number's caller presses 9 and is then on the
child line exactly as if they had dialled it, walked with signed webhooks on real Redis and a real database.

The two-number deployment (the default, which bench and chaos run) is tests/webhooks/test_child_line_*.py; the
engine's side of the key is tests/ivr_flows/test_child_key.py.
"""
from __future__ import annotations

import pytest
from redis import Redis
from sqlalchemy import func, select

from dispatch import runtime
from dispatch.spool import replay, spool
from models import CallLog, Case, Message, Order
from tests import people
from tests.conftest import CHILD_NUMBER, ELDERLY_NUMBER
from tests.orders import texts_to
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import (  # noqa: F401 - chain: the child line's rota fixture
    CALLER,
    SUPERVISOR,
    TIER1_A,
    TIER1_B,
    TIER2,
    TIER3,
    WHISPER,
    case_of,
    chain,
    dial_ended,
    dialled,
    leave_message,
    ring_out,
    screen_leg,
)

OFFER = "未成年人求助请按9"


@pytest.fixture
def child_key() -> str:
    """The setting under test; a test parametrizes it to "" for the two-number deployment."""
    return "9"


@pytest.fixture
def settings(settings, child_key):
    """The shared test settings with the child line on the elderly line's number."""
    return settings.with_overrides(child_line_key=child_key)


def says(resp) -> str:
    return "".join(parse_twiml(resp).itertext())


def first_said(resp) -> str:
    """The first sentence the caller hears."""
    return "".join(next(parse_twiml(resp).iter("Say")).itertext())


def one_number_call(tw, from_: str = CALLER):
    """A new signed call to the elderly line's number."""
    return tw.new_call(from_=from_, to=ELDERLY_NUMBER)


def press_9(tw, from_: str = CALLER):
    """Call the one number and press 9 at the greeting; returns the call and the TwiML that follows."""
    call = one_number_call(tw, from_)
    return call, call.follow(call.post("/twilio/voice"), Digits="9")


def row_of(db, call) -> CallLog:
    db.expire_all()
    return db.scalar(select(CallLog).where(CallLog.call_sid == call.sid))


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


# --- the greeting ----------------------------------------------------------------------------------------

def test_the_greeting_of_the_one_number_says_the_child_line_key_first(tw):
    resp = one_number_call(tw).post("/twilio/voice")
    assert first_said(resp) == OFFER + "。"
    assert says(resp).index(OFFER) < says(resp).index("养老服务热线") < says(resp).index("生活照料请按1")


def test_the_key_can_be_pressed_during_the_greeting(tw):
    root = parse_twiml(one_number_call(tw).post("/twilio/voice"))
    assert root[0].tag == "Gather" and OFFER in "".join(root[0].itertext())


@pytest.mark.parametrize("child_key", [""])
def test_with_two_numbers_the_elderly_greeting_offers_no_child_line(tw, child_key):
    assert OFFER not in says(one_number_call(tw).post("/twilio/voice"))


# --- 9 enters the child line --------------------------------------------------------------------------------

def test_pressing_9_rings_the_child_lines_tier_1_after_its_greeting(tw, chain):
    _, resp = press_9(tw)
    assert dialled(resp) == sorted([TIER1_A, TIER1_B])
    assert "未成年人保护热线" in says(resp) and "110" in says(resp)


def test_pressing_9_makes_the_call_a_child_line_call_with_a_ringing_case(tw, db, chain):
    call, _ = press_9(tw)
    row, case = row_of(db, call), case_of(db, call)
    assert (row.line, row.path, row.to_phone) == ("child", "9", ELDERLY_NUMBER)
    assert case is not None and (case.status, case.caller) == ("ringing", CALLER)
    assert [e.kind for e in case.events][:2] == ["call", "ring"]


def test_the_case_starts_when_9_is_pressed(tw, db, chain):
    call, _ = press_9(tw)
    assert case_of(db, call).created_at >= row_of(db, call).started_at


def test_9_then_tier_1_screening_and_1_answers_the_case(tw, db, chain):
    call, tier1 = press_9(tw)
    leg, screen = screen_leg(tw, call, tier1, TIER1_A)
    assert WHISPER in says(screen)
    leg.follow(screen, Digits="1")
    dial_ended(call, tier1, status="completed", DialCallDuration="240", CallStatus="completed")
    call.status("completed", CallDuration="260")
    case = case_of(db, call)
    assert (case.status, case.answered_by_id) == ("answered", chain["a"].id)
    assert row_of(db, call).outcome == "answered"


def test_9_then_nobody_answers_then_the_message_alerts_the_chain_by_sms(tw, db, chain, run_worker, fake_twilio):
    call, tier1 = press_9(tw)
    resp = ring_out(call, tier1)
    assert "您的留言已收到" in says(leave_message(call, resp))
    run_worker()
    case = case_of(db, call)
    assert case.status == "voicemail"
    for officer in (TIER1_A, TIER1_B, TIER2, TIER3, SUPERVISOR):
        sent = texts_to(fake_twilio, officer)
        assert len(sent) == 1 and case.code in sent[0]


def test_9_then_the_caller_hangs_up_while_tier_1_rings_is_a_missed_case(tw, db, chain, run_worker, fake_twilio):
    call, _ = press_9(tw)
    call.status("completed", CallDuration="15")  # only the status callback tells
    run_worker()
    assert case_of(db, call).status == "missed"
    assert row_of(db, call).outcome == "missed"
    assert texts_to(fake_twilio, TIER1_A)


def test_9_with_nobody_on_duty_goes_to_the_message_after_the_child_greeting(tw, db):
    _, resp = press_9(tw)
    root = parse_twiml(resp)
    assert root.find("Dial") is None and root.find("Record").get("maxLength") == "180"
    assert "未成年人保护热线" in says(resp)


def test_9_at_the_confirmation_enters_the_child_line_too(tw, db, chain):
    call = one_number_call(tw)
    resp = call.follow(call.follow(call.post("/twilio/voice"), Digits="2"), Digits="9")
    assert dialled(resp) == sorted([TIER1_A, TIER1_B])
    assert (row_of(db, call).line, row_of(db, call).path) == ("child", "29")


def test_9_after_an_invalid_key_enters_the_child_line(tw, db, chain):
    call = one_number_call(tw)
    again = call.follow(call.post("/twilio/voice"), Digits="7")
    assert OFFER in says(again)
    assert dialled(call.follow(again, Digits="9")) == sorted([TIER1_A, TIER1_B])


def test_a_retried_9_webhook_keeps_one_case_and_the_same_answer(tw, db, chain):
    call = one_number_call(tw)
    greeting = call.post("/twilio/voice")
    first = call.follow(greeting, Digits="9")
    again = call.follow(greeting, Digits="9")
    assert again.get_data() == first.get_data()
    assert count(db, Case) == 1
    assert [e.kind for e in case_of(db, call).events].count("ring") == 1


def test_9_opens_no_order(tw, db, chain, api):
    call, tier1 = press_9(tw)
    leave_message(call, ring_out(call, tier1))
    assert count(db, Order) == 0 and api("/api/orders").get_json() == {"orders": []}


# --- the elderly line on the same number is as before -------------------------------------------------------

def test_pressing_1_on_the_same_number_orders_daily_care_as_before(tw, db, chain):
    people.resident(db)
    call = one_number_call(tw, people.RESIDENT_MOBILE)
    resp = call.follow(call.follow(call.post("/twilio/voice"), Digits="1"), Digits="1")
    order = db.scalar(select(Order))
    assert (order.category, order.status) == ("daily_care", "pending")
    assert " ".join(order.code) in says(resp)
    row = row_of(db, call)
    assert (row.line, row.path, row.outcome) == ("elderly", "11", "order")
    assert count(db, Case) == 0


def test_pressing_0_on_the_same_number_rings_the_elderly_officers_not_the_child_line(tw, db, chain):
    call = one_number_call(tw)
    resp = call.follow(call.post("/twilio/voice"), Digits="0")
    assert dialled(resp) == [chain["elderly"].phone]
    assert row_of(db, call).line == "elderly" and count(db, Case) == 0


def test_a_direct_call_to_the_child_number_is_still_the_child_line(tw, db, chain):
    call = tw.new_call(from_=CALLER, to=CHILD_NUMBER)
    assert dialled(call.post("/twilio/voice")) == sorted([TIER1_A, TIER1_B])
    assert row_of(db, call).line == "child"


@pytest.mark.parametrize("child_key", [""])
def test_with_two_numbers_9_is_an_invalid_key_as_before(tw, db, chain, child_key):
    call = one_number_call(tw)
    resp = call.follow(call.post("/twilio/voice"), Digits="9")
    assert "您按的键无效" in says(resp) and parse_twiml(resp).find("Gather") is not None
    assert (row_of(db, call).line, row_of(db, call).path) == ("elderly", "?")
    assert count(db, Case) == 0


# --- a database outage at the key press -------------------------------------------------------------------

def _replay(app) -> int:
    state = app.extensions["hotline"]
    return replay(runtime.configure(state.settings, queue=state.queue, session_factory=state.session_factory))


def _spool_key_press(settings, call, digits: str) -> None:
    """What the fallback keeps of a key press that met a database outage (the form, not the URL's query)."""
    form = {name: [value] for name, value in {**call.base_params(), "Digits": digits}.items()}
    spool(Redis.from_url(settings.redis_url), "/twilio/voice/menu", form)


def test_9_spooled_during_an_outage_becomes_a_missed_child_case_with_alerts_on_replay(app, tw, db, settings, chain):
    call = one_number_call(tw)
    call.post("/twilio/voice")  # the greeting was logged on the elderly line; then the database went
    _spool_key_press(settings, call, "9")
    assert _replay(app) == 1
    case = case_of(db, call)
    assert row_of(db, call).line == "child"
    assert (case.status, case.caller) == ("missed", CALLER)
    db.expire_all()
    assert db.scalars(select(Message.to_phone).where(Message.case_id == case.id)).all()


def test_9_spooled_for_a_call_never_logged_is_logged_on_the_child_line(app, tw, db, settings, chain):
    _spool_key_press(settings, one_number_call(tw), "9")
    _replay(app)
    row = db.scalar(select(CallLog))
    assert (row.line, row.outcome) == ("child", "fallback") and count(db, Case) == 1


def test_another_key_spooled_during_an_outage_stays_on_the_elderly_line(app, tw, db, settings, chain):
    call = one_number_call(tw)
    call.post("/twilio/voice")
    _spool_key_press(settings, call, "2")
    _replay(app)
    assert row_of(db, call).line == "elderly" and count(db, Case) == 0
