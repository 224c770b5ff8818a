"""Orders taken on the elderly line's menu: committed once, coded, read back, safe under retried webhooks."""
from __future__ import annotations

import re

from sqlalchemy import select

from hotline.webhooks import call_store
from ivr_flows.prompts import spoken_digits
from models import CallLog, Order, OrderStatus, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.twilio_client import parse_twiml
from tests.webhooks.elderly_calls import (  # noqa: F401 - fixtures
    MENU_PATH,
    OFFICER_A,
    OFFICER_B,
    UNKNOWN_CALLER,
    call_log,
    count,
    dialled,
    resident,
    says,
    tier1,
    verbs,
)


def only_order(db) -> Order:
    db.expire_all()
    orders = list(db.scalars(select(Order)))
    assert len(orders) == 1, f"expected one order, found {len(orders)}"
    return orders[0]


# --- orders -----------------------------------------------------------------------------------------

def test_emergency_key_commits_an_emergency_order_at_once_advises_120_then_rings_officers(tw, db, resident, tier1):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.post("/twilio/voice"), Digits="5")
    order = only_order(db)  # committed before anything else happens on the call
    assert order.category == "emergency" and order.status == "pending"
    assert order.resident_id == resident.id
    root = parse_twiml(resp)
    tags = [el.tag for el in root]
    advice = next(i for i, el in enumerate(root) if el.tag == "Say" and "120" in "".join(el.itertext()))
    assert advice < tags.index("Dial")
    assert sorted(dialled(resp)) == sorted([OFFICER_A, OFFICER_B])
    log = call_log(db, call)
    assert log.order_id == order.id and log.path == "5"


def test_emergency_order_is_kept_even_when_nobody_can_answer(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.post("/twilio/voice"), Digits="5")
    assert parse_twiml(resp).find("Record") is not None
    assert only_order(db).category == "emergency"


def test_unknown_caller_choosing_a_service_gets_an_unregistered_order_and_a_person(tw, db, tier1):
    call = tw.new_call(from_=UNKNOWN_CALLER, to=ELDERLY_NUMBER)
    resp = call.follow(call.follow(call.post("/twilio/voice"), Digits="3"), Digits="1")
    order = only_order(db)
    assert order.unregistered is True
    assert order.caller_phone == UNKNOWN_CALLER
    assert order.resident_id is None and order.category == "companionship"
    assert "您的号码还没有登记" in says(resp)
    assert sorted(dialled(resp)) == sorted([OFFICER_A, OFFICER_B])


def test_known_caller_order_is_registered_to_the_resident_and_the_number_they_called_from(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_LANDLINE, to=ELDERLY_NUMBER)
    call.follow(call.follow(call.post("/twilio/voice"), Digits="1"), Digits="1")
    order = only_order(db)
    assert order.unregistered is False and order.resident_id == resident.id
    assert order.caller_phone == people.RESIDENT_LANDLINE and order.category == "daily_care"


def test_order_code_is_six_digits_read_back_digit_by_digit(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.follow(call.post("/twilio/voice"), Digits="4"), Digits="1")
    code = only_order(db).code
    assert re.fullmatch(r"\d{6}", code)
    spoken = says(resp)
    assert spoken.count(" ".join(code)) == 2  # read, then read again
    assert code not in spoken.replace(" ".join(code), "")  # never as one big number
    assert "15分钟内上门" in spoken
    assert verbs(resp)[-1] == "Hangup"


def test_confirm_2_goes_back_to_the_menu_without_an_order(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.follow(call.post("/twilio/voice"), Digits="2"), Digits="2")
    assert "生活照料请按1" in says(resp)
    assert count(db, Order) == 0


def test_a_retried_confirmation_webhook_gives_one_order_and_the_same_code(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    confirm = call.follow(call.post("/twilio/voice"), Digits="2")
    first = call.follow(confirm, Digits="1")
    again = call.follow(confirm, Digits="1")
    code = only_order(db).code
    assert " ".join(code) in says(first) and " ".join(code) in says(again)


def test_a_retried_first_webhook_keeps_one_call_log(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    call.post("/twilio/voice")
    assert count(db, CallLog) == 1


def test_a_key_whose_greeting_never_arrived_still_logs_the_call_with_its_keys(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.post(MENU_PATH + "?node=menu&category=&silences=0&invalid=0&path=&end=1", Digits="2")
    assert parse_twiml(resp).find("Gather") is not None
    log = call_log(db, call)
    assert (log.path, log.from_phone, log.resident_id) == ("2", people.RESIDENT_MOBILE, resident.id)


def test_a_confirmation_whose_greeting_never_arrived_still_makes_the_order_and_the_call_log(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.post(MENU_PATH + "?node=confirm&category=housekeeping&silences=0&invalid=0&path=2&end=1", Digits="1")
    order = only_order(db)
    assert spoken_digits(order.code) in says(resp)
    assert (order.resident_id, order.category) == (resident.id, "housekeeping")
    log = call_log(db, call)
    assert (log.path, log.order_id, log.outcome) == ("21", order.id, "order")


def test_an_order_code_another_open_order_holds_is_drawn_again(tw, db, resident, monkeypatch):
    db.add(Order(code="111111", category="companionship", resident_id=resident.id, created_at=utcnow()))
    db.commit()
    draws = iter(["111111", "222222"])
    monkeypatch.setattr(call_store, "draw_code", lambda: next(draws))
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    done = call.follow(call.follow(call.post("/twilio/voice"), Digits="2"), Digits="1")
    db.expire_all()
    order = db.scalars(select(Order).where(Order.call_sid == call.sid)).one()
    assert order.code == "222222" and spoken_digits("222222") in says(done)
    assert call_log(db, call).order_id == order.id


def test_a_closed_orders_code_is_free_again(tw, db, resident, monkeypatch):
    db.add(Order(code="111111", category="companionship", resident_id=resident.id, created_at=utcnow(),
                 status=OrderStatus.COMPLETED.value))
    db.commit()
    monkeypatch.setattr(call_store, "draw_code", lambda: "111111")
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    done = call.follow(call.follow(call.post("/twilio/voice"), Digits="2"), Digits="1")
    db.expire_all()
    order = db.scalars(select(Order).where(Order.call_sid == call.sid)).one()
    assert order.code == "111111" and spoken_digits("111111") in says(done)


def test_keys_travel_in_the_menu_url_and_a_repeated_key_webhook_records_them_once(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    greeting = call.post("/twilio/voice")
    first = call.follow(greeting, Digits="9")
    again = call.follow(greeting, Digits="9")  # Twilio delivering the same key twice
    assert first.get_data() == again.get_data()
    assert "path=%3F" in parse_twiml(first).find("Gather").get("action")
    assert call_log(db, call).path == "?"


def test_tampered_but_signed_menu_state_restarts_at_the_menu_without_an_order(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    resp = call.post(MENU_PATH + "?node=confirm&category=bogus&silences=0&invalid=0&end=1", Digits="1")
    assert parse_twiml(resp).find("Gather") is not None
    assert "服务单号" not in says(resp)
    assert count(db, Order) == 0
