"""Dispatch through the RQ worker: what the offer SMS says, whatever the name and address."""
from __future__ import annotations

import pytest

from dispatch.jobs import enqueue_offer
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.dispatch.dispatch_helpers import T1, T2, T3, T4, T5, _offers
from tests.orders import EMERGENCY, call_in, make_order, only_order, sent_to, texts_to

LONG_ADDRESS = "内蒙古自治区赤峰市巴林左旗林东镇向阳社区幸福家园小区东区十七号楼三单元五零二室"
# Long enough that even the shortest address leaves no room for all of it.
LONG_NAME = "阿卜杜热合曼·买买提依明·艾合买提江·努尔麦麦提·吐尔逊·阿不都克里木·热合曼"


# --- the offer ------------------------------------------------------------------------------------

def test_order_from_a_call_is_offered_to_the_nearest_free_skilled_technician_only(tw, db, run_worker, fake_twilio):
    people.resident(db)
    people.technician(db, "李师傅", T1, km_north=2.0)
    people.technician(db, "张师傅", T2, km_north=0.5)
    people.technician(db, "赵师傅", T3, km_north=0.2, skills="daily_care")
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    assert sent_to(fake_twilio) == [T2]
    order = only_order(db)
    assert order.status == "offered" and order.offered_at is not None
    assert [(a.technician.name, a.status) for a in _offers(db, order.id)] == [("张师傅", "pending")]


def test_offer_sms_names_code_category_address_resident_callback_and_how_to_reply(tw, db, run_worker, fake_twilio):
    people.resident(db)
    people.technician(db, "张师傅", T1)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    order = only_order(db)
    [body] = texts_to(fake_twilio, T1)
    assert order.code in body
    assert "家政维修" in body
    assert "3号楼2单元101" in body
    assert "王秀英" in body
    assert "13904761234" in body
    assert "回1接单" in body and "2拒绝" in body


def test_offer_sms_comes_from_the_hotline_number(tw, db, run_worker, fake_twilio):
    people.resident(db)
    people.technician(db, "张师傅", T1)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    assert fake_twilio.messages[0]["from_"] == ELDERLY_NUMBER


@pytest.mark.parametrize("category", ["housekeeping", "emergency"])
def test_offer_sms_fits_one_segment_even_for_a_long_address_and_name(app, db, run_worker, fake_twilio, category):
    resident = people.resident(db, name=LONG_NAME, address=LONG_ADDRESS, phones=(people.RESIDENT_LANDLINE,))
    people.technician(db, "张师傅", T1, skills=category)
    order = make_order(app, db, resident, category)
    run_worker()
    [message] = fake_twilio.messages
    body = message["body"]
    assert message["num_segments"] == 1 and len(body) <= 70, (len(body), body)
    assert order.code in body and "04768223344" in body and "回1接单" in body
    assert "五零二室" in body  # the end of the address is the part a technician needs
    assert LONG_NAME[:6] in body


def test_emergency_call_is_offered_to_the_three_nearest_at_once(tw, db, run_worker, fake_twilio):
    people.resident(db)
    for i, (phone, km) in enumerate(((T1, 0.4), (T2, 3.5), (T3, 1.2), (T4, 0.8), (T5, 0.1))):
        people.technician(db, f"急救{i}", phone, km_north=km, skills="emergency")
    call_in(tw, people.RESIDENT_MOBILE, keys=EMERGENCY)
    run_worker()
    assert sorted(sent_to(fake_twilio)) == sorted([T5, T1, T4])
    order = only_order(db)
    assert order.category == "emergency" and order.status == "offered"
    assert all(order.code in m["body"] for m in fake_twilio.messages)


def test_rerun_of_the_offer_job_sends_no_second_offer(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    people.technician(db, "李师傅", T2, km_north=2.0)
    order = make_order(app, db, resident)
    enqueue_offer(app.extensions["hotline"].queue, order.id)  # queued twice before the worker ran
    run_worker()
    enqueue_offer(app.extensions["hotline"].queue, order.id)  # and once more afterwards
    run_worker()
    assert sent_to(fake_twilio) == [T1]
    assert len(_offers(db, order.id)) == 1
