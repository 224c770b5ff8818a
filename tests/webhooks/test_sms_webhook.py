"""Technicians answer offers by SMS: signed `POST /twilio/sms`, a TwiML <Message> back, the order moves."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from models import Message, Order, OrderEvent
from tests import people
from tests.conftest import AUTH_TOKEN, ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.orders import EMERGENCY, answer, call_in, only_order, order_by_code, snapshot, texts_to
from tests.twilio_client import TwilioWebhookClient, parse_twiml

T1, T2, T3 = "+8613800000001", "+8613800000002", "+8613800000003"
SECOND_RESIDENT = "+8613904765678"


@pytest.fixture
def offered(tw, db, run_worker):
    """A housekeeping order from a resident's call, offered to 张师傅 (T1); 李师傅 (T2) is next."""
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    return only_order(db)


@pytest.fixture
def emergency(tw, db, run_worker):
    """An emergency order from a resident's call, offered to three technicians at once."""
    people.resident(db)
    for name, phone, km in (("张师傅", T1, 0.5), ("李师傅", T2, 1.0), ("赵师傅", T3, 1.5)):
        people.technician(db, name, phone, km_north=km, skills="emergency")
    call_in(tw, people.RESIDENT_MOBILE, keys=EMERGENCY)
    run_worker()
    return only_order(db)


@pytest.fixture
def two_offers(tw, db, run_worker):
    """Two orders from two residents, both offered to 张师傅 (T1): returns their codes, oldest first."""
    people.resident(db)
    people.resident(db, name="李桂兰", phones=(SECOND_RESIDENT,), address="林东镇团结社区8号楼101")
    people.technician(db, "张师傅", T1)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    call_in(tw, SECOND_RESIDENT)
    run_worker()
    db.expire_all()
    codes = [o.code for o in sorted(_orders(db), key=lambda o: o.id)]
    assert len(codes) == 2
    return codes


def _orders(db):
    return list(db.scalars(select(Order)))


def _events(db, order_id):
    db.expire_all()
    return [e.kind for e in db.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)
                                       .order_by(OrderEvent.id))]


def sms(tw, sender, body, **kw):
    return tw.sms(from_=sender, to=ELDERLY_NUMBER, body=body, **kw)


# --- the answer and the status flow -------------------------------------------------------------

def test_reply_is_answered_with_a_twiml_message_naming_the_order(tw, offered):
    resp = sms(tw, T1, "1")
    root = parse_twiml(resp)
    assert [m.tag for m in root] == ["Message"]
    assert offered.code in answer(resp)


def test_replies_move_the_order_from_offered_to_completed_each_step_timestamped(tw, api, offered):
    before = api(f"/api/orders/{offered.code}").json
    assert before["status"] == "offered" and before["offered_at"]
    assert before["accepted_at"] is None and before["arrived_at"] is None and before["completed_at"] is None
    steps = (("接单", "accepted", "accepted_at"), ("到达", "arrived", "arrived_at"),
             ("完成", "completed", "completed_at"))
    stamps = [before["created_at"], before["offered_at"]]
    for body, status, stamp in steps:
        sms(tw, T1, body)
        data = api(f"/api/orders/{offered.code}").json
        assert data["status"] == status and data[stamp] is not None
        stamps.append(data[stamp])
    assert stamps == sorted(stamps)
    assert data["technician"] == {"name": "张师傅", "phone": T1}


def test_every_transition_is_kept_as_an_order_event(tw, db, offered):
    for body in ("Y", "ARRIVED", "DONE"):
        sms(tw, T1, body)
    statuses = [k for k in _events(db, offered.id) if k.startswith("status:")]
    assert statuses == ["status:pending", "status:offered", "status:accepted", "status:arrived",
                        "status:completed"]


def test_accepted_order_can_be_completed_without_an_arrival_reply(tw, db, offered):
    sms(tw, T1, "1")
    sms(tw, T1, "完工")
    assert order_by_code(db, offered.code).status == "completed"


def test_decline_reply_is_confirmed_and_the_order_waits_for_the_next_technician(tw, db, run_worker, fake_twilio,
                                                                                offered):
    resp = sms(tw, T1, "2")
    assert offered.code in answer(resp)
    run_worker()
    assert texts_to(fake_twilio, T2) and order_by_code(db, offered.code).status == "offered"


def test_arrived_before_accepting_changes_nothing(tw, db, offered):
    before = snapshot(db)
    resp = sms(tw, T1, "到了")
    assert answer(resp)
    assert snapshot(db) == before


def test_accept_from_a_technician_never_offered_the_order_changes_nothing(tw, db, offered):
    before = snapshot(db)
    resp = sms(tw, T2, f"接单 {offered.code}")
    assert answer(resp)
    assert snapshot(db) == before


# --- which order --------------------------------------------------------------------------------

def test_several_open_offers_and_no_code_asks_for_the_code_and_changes_nothing(tw, db, two_offers):
    before = snapshot(db)
    resp = sms(tw, T1, "接单")
    assert all(code in answer(resp) for code in two_offers)
    assert snapshot(db) == before


def test_a_code_picks_one_of_several_open_offers(tw, db, two_offers):
    older, newer = two_offers
    resp = sms(tw, T1, f"{newer}接单")
    assert newer in answer(resp)
    assert order_by_code(db, newer).status == "accepted"
    assert order_by_code(db, older).status == "offered"


def test_full_width_code_picks_the_order(tw, db, two_offers):
    older, newer = two_offers
    wide = "".join(chr(ord(d) + 0xFEE0) for d in older)
    sms(tw, T1, f"接单{wide}")
    assert order_by_code(db, older).status == "accepted"


# --- one winner ---------------------------------------------------------------------------------

def test_first_technician_to_accept_an_emergency_wins(tw, db, emergency):
    sms(tw, T2, "1")
    sms(tw, T1, "1")
    order = order_by_code(db, emergency.code)
    assert order.status == "accepted" and order.technician.phone == T2


def test_a_later_accept_is_told_the_order_is_taken(tw, db, emergency):
    sms(tw, T2, "1")
    before = snapshot(db)
    resp = sms(tw, T1, "接单")
    assert "已由他人接单" in answer(resp) and emergency.code in answer(resp)
    assert snapshot(db) == before


def test_a_later_accept_with_the_code_is_told_the_order_is_taken(tw, db, emergency):
    sms(tw, T2, "1")
    resp = sms(tw, T3, f"1 {emergency.code}")
    assert "已由他人接单" in answer(resp)
    assert order_by_code(db, emergency.code).technician.phone == T2


def test_simultaneous_accepts_have_exactly_one_winner(app, db, emergency):
    barrier = threading.Barrier(3)
    answers: dict[str, str] = {}

    def accept(phone):
        own = TwilioWebhookClient(app.test_client(), auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL)
        barrier.wait(10)
        answers[phone] = answer(sms(own, phone, "1"))

    threads = [threading.Thread(target=accept, args=(p,)) for p in (T1, T2, T3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    order = order_by_code(db, emergency.code)
    winner = order.technician.phone
    assert order.status == "accepted"
    assert [p for p, text in answers.items() if "已接单" in text and "他人" not in text] == [winner]
    assert sorted(p for p, text in answers.items() if "已由他人接单" in text) == sorted({T1, T2, T3} - {winner})
    assert _events(db, order.id).count("status:accepted") == 1


# --- who may answer, and what is not an answer --------------------------------------------------

def test_unknown_sender_gets_a_short_reply_and_nothing_changes(tw, db, offered):
    before = snapshot(db)
    resp = sms(tw, "+8613911112222", f"接单 {offered.code}")
    text = answer(resp)
    assert text and len(text) <= 70
    assert snapshot(db) == before


def test_garbage_gets_the_help_reply_and_nothing_changes(tw, db, offered):
    before = snapshot(db)
    resp = sms(tw, T1, "师傅在路上吗？")
    assert "回1接单" in answer(resp)
    assert snapshot(db) == before


@pytest.mark.parametrize("keyword", ["STOP", "START", "HELP", "UNSUBSCRIBE"])
def test_carrier_keywords_get_an_empty_answer_and_change_nothing(tw, db, offered, keyword):
    before = snapshot(db)
    resp = sms(tw, T1, keyword)
    root = parse_twiml(resp)
    assert list(root) == []
    assert snapshot(db) == before


def test_unsigned_sms_is_refused_and_nothing_is_stored(tw, db, offered):
    before = snapshot(db)
    inbound = db.scalar(select(func.count(Message.id)))
    resp = tw.post("/twilio/sms", {"MessageSid": "SM" + "0" * 32, "From": T1, "To": ELDERLY_NUMBER,
                                   "Body": "1"}, signed=False)
    assert resp.status_code == 403
    assert snapshot(db) == before
    assert db.scalar(select(func.count(Message.id))) == inbound


def test_sms_signed_with_another_token_is_refused(client, db, offered):
    forger = TwilioWebhookClient(client, auth_token="not-our-token", public_base_url=PUBLIC_BASE_URL)
    before = snapshot(db)
    assert sms(forger, T1, "1").status_code == 403
    assert snapshot(db) == before


def test_the_same_message_sid_twice_has_one_effect_and_the_same_answer(tw, db, run_worker, fake_twilio, offered):
    sid = "SM" + "7" * 32
    first = sms(tw, T1, "1", sid=sid)
    after_first = snapshot(db)
    again = sms(tw, T1, "1", sid=sid)
    assert again.get_data() == first.get_data()
    assert snapshot(db) == after_first
    run_worker()
    assert len(texts_to(fake_twilio, people.RESIDENT_MOBILE)) == 1


def test_every_inbound_sms_is_logged_with_its_sender(tw, db, offered):
    sid = "SM" + "5" * 32
    sms(tw, T1, "师傅在路上吗？", sid=sid)
    db.expire_all()
    row = db.scalars(select(Message).where(Message.provider_sid == sid)).one()
    assert (row.direction, row.from_phone, row.body) == ("inbound", T1, "师傅在路上吗？")
