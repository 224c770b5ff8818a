"""A resident calls the elderly line, presses keys, and a technician is on the way: the whole path."""
from __future__ import annotations

from sqlalchemy import select

from models import CallLog, Order
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.twilio_client import parse_twiml


def _says(resp) -> str:
    return "".join(parse_twiml(resp).itertext())


def test_known_caller_is_greeted_by_name_and_asked_to_choose(tw, db):
    people.resident(db)
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    root = parse_twiml(resp)
    assert "王秀英您好" in _says(resp)
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1" and int(gather.get("timeout")) >= 10
    assert root.find("Say").get("language") == "cmn-CN"


def test_pressing_category_then_confirm_commits_order_and_reads_code(tw, db, api):
    people.resident(db)
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.post("/twilio/voice"), Digits="2")
    assert "您选择了家政维修" in _says(resp)
    resp = call.follow(resp, Digits="1")
    order = db.scalar(select(Order))
    assert order.category == "housekeeping" and order.status == "pending"
    assert " ".join(order.code) in _says(resp)
    assert "15分钟内上门" in _says(resp)
    assert parse_twiml(resp).find("Hangup") is not None
    log = db.scalar(select(CallLog))
    assert log.path == "21" and log.outcome == "order"
    assert api(f"/api/orders/{order.code}").json["resident"]["name"] == "王秀英"


def test_offer_goes_to_nearest_skilled_technician_and_accept_notifies_resident(tw, db, run_worker, fake_twilio, api):
    people.resident(db)
    people.technician(db, "李师傅", "+8613800000001", km_north=2.0)
    people.technician(db, "张师傅", "+8613800000002", km_north=0.5)
    people.technician(db, "赵师傅", "+8613800000003", km_north=0.2, skills="daily_care")
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.follow(call.follow(call.post("/twilio/voice"), Digits="2"), Digits="1")
    run_worker()
    order = db.scalar(select(Order))
    assert [m["to"] for m in fake_twilio.messages] == ["+8613800000002"]
    offer = fake_twilio.messages[0]
    assert order.code in offer["body"] and offer["num_segments"] == 1
    reply = tw.sms(from_="+8613800000002", to=ELDERLY_NUMBER, body="接单")
    assert order.code in _says(reply)
    run_worker()
    assert fake_twilio.messages[-1]["to"] == people.RESIDENT_MOBILE
    assert "张师傅" in fake_twilio.messages[-1]["body"]
    data = api(f"/api/orders/{order.code}").json
    assert data["status"] == "accepted" and data["technician"]["name"] == "张师傅"
    tw.sms(from_="+8613800000002", to=ELDERLY_NUMBER, body="到了")
    tw.sms(from_="+8613800000002", to=ELDERLY_NUMBER, body=f"完成 {order.code}")
    data = api(f"/api/orders/{order.code}").json
    assert data["status"] == "completed" and data["arrived_at"] and data["completed_at"]
