"""Landline clock-in (issue 15): the technician calls the hotline from the resident's registered phone, presses
the unannounced 8 at the menu and keys the order's six digits: the first call clocks in, the second out."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from models import Visit, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.orders import only_order, snapshot
from tests.twilio_client import parse_twiml
from tests.visits import TECH, accepted, arrival_calls, visit

HOME = people.RESIDENT_LANDLINE


def spoken(resp) -> str:
    """Everything the TwiML says, in order."""
    return "".join("".join(say.itertext()) for say in parse_twiml(resp).iter("Say"))


def dial_in(tw, from_: str = HOME):
    """A call to the hotline from `from_` that presses 8 at the top menu; returns the call and its answer."""
    call = tw.new_call(from_=from_, to=ELDERLY_NUMBER)
    greeting = call.post("/twilio/voice")
    return call, call.follow(greeting, Digits="8")


def clock(tw, code: str, from_: str = HOME):
    """One clock-in or clock-out call keying `code`; returns the answer to the code."""
    call, asked = dial_in(tw, from_)
    return call.follow(asked, Digits=code)


def test_the_menu_never_announces_the_clock_in_key(tw):
    call = tw.new_call(from_=HOME, to=ELDERLY_NUMBER)
    said = spoken(call.post("/twilio/voice"))
    assert "按8" not in said and "签到" not in said


def test_key_8_from_the_residents_phone_with_an_order_being_worked_asks_for_the_order_code(tw, db, run_worker):
    accepted(tw, db, run_worker, phones=(HOME,))
    _, asked = dial_in(tw)
    assert "请输入六位服务单号" in spoken(asked)
    [gather] = parse_twiml(asked).iter("Gather")
    assert gather.get("numDigits") == "6" and gather.get("action").split("?")[0].endswith("/twilio/voice/clock-in")


def test_the_first_call_clocks_in_verified_with_no_arrival_call(tw, db, run_worker, fake_twilio):
    order = accepted(tw, db, run_worker, phones=(HOME,))
    assert "签到成功" in spoken(clock(tw, order.code))
    assert only_order(db).status == "arrived"
    opened = visit(db)
    assert (opened.arrival_source, opened.verification) == ("landline", "verified")
    run_worker()
    assert arrival_calls(fake_twilio) == []


def test_the_second_call_clocks_out_and_measures_the_visit(tw, db, run_worker):
    order = accepted(tw, db, run_worker, phones=(HOME,))
    clock(tw, order.code)
    db.execute(update(Visit).values(arrived_at=utcnow() - timedelta(minutes=35)))
    db.commit()
    answer = spoken(clock(tw, order.code))
    assert "签退成功" in answer and "35分钟" in answer
    assert only_order(db).status == "completed"
    closed = visit(db)
    assert (closed.completion_source, closed.minutes, closed.verification) == ("landline", 35, "verified")


def test_a_repeated_delivery_of_the_clock_in_does_not_clock_out(tw, db, run_worker):
    order = accepted(tw, db, run_worker, phones=(HOME,))
    call, asked = dial_in(tw)
    first = call.follow(asked, Digits=order.code)
    again = call.post(call.last_path, Digits=order.code)  # Twilio retries the same request
    assert spoken(again) == spoken(first)
    assert only_order(db).status == "arrived"


def test_an_arrival_reported_by_sms_is_verified_by_the_clock_in(tw, db, run_worker, fake_twilio):
    order = accepted(tw, db, run_worker, phones=(HOME,))
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="到达")
    assert "签到成功" in spoken(clock(tw, order.code))
    run_worker()
    assert arrival_calls(fake_twilio) == []
    assert (visit(db).verification, visit(db).arrival_source) == ("verified", "landline")


def test_key_8_from_a_phone_with_no_order_being_worked_is_an_invalid_key(tw, db, run_worker):
    people.resident(db, phones=(HOME,))
    _, answer = dial_in(tw)
    assert "无效" in spoken(answer) and "请输入六位服务单号" not in spoken(answer)


def test_key_8_from_another_phone_is_an_invalid_key_and_changes_nothing(tw, db, run_worker):
    accepted(tw, db, run_worker, phones=(HOME,))
    before = snapshot(db)
    _, answer = dial_in(tw, from_="+8613912345678")
    assert "无效" in spoken(answer)
    assert snapshot(db) == before


def test_a_wrong_code_is_asked_once_more_then_back_to_the_menu_changing_nothing(tw, db, run_worker):
    order = accepted(tw, db, run_worker, phones=(HOME,))
    wrong = "000000" if order.code != "000000" else "111111"
    before = snapshot(db)
    call, asked = dial_in(tw)
    again = call.follow(asked, Digits=wrong)
    assert "服务单号不对" in spoken(again)
    back = call.follow(again, Digits=wrong)
    assert "无效" in spoken(back)
    assert parse_twiml(back)[-1].tag == "Redirect" and "/twilio/voice/menu" in parse_twiml(back)[-1].text
    assert snapshot(db) == before


def test_silence_at_the_code_goes_back_to_the_menu(tw, db, run_worker):
    accepted(tw, db, run_worker, phones=(HOME,))
    _, asked = dial_in(tw)
    root = parse_twiml(asked)
    assert root[-1].tag == "Redirect" and "/twilio/voice/menu" in root[-1].text


def test_the_code_of_another_residents_order_does_nothing(tw, db, run_worker):
    order = accepted(tw, db, run_worker, phones=(people.RESIDENT_MOBILE,))
    people.resident(db, name="李桂兰", phones=(HOME,))
    before = snapshot(db)
    call = tw.new_call(from_=HOME, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice/clock-in?end=1", Digits=order.code)
    assert "服务单号不对" in spoken(resp)
    assert snapshot(db) == before


def test_an_unsigned_clock_in_is_refused(tw, db, run_worker):
    order = accepted(tw, db, run_worker, phones=(HOME,))
    call = tw.new_call(from_=HOME, to=ELDERLY_NUMBER)
    assert tw.post("/twilio/voice/clock-in?end=1", {**call.base_params(), "Digits": order.code},
                   signed=False).status_code == 403
    assert only_order(db).status == "accepted"
