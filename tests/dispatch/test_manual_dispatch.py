"""Staff actions on orders (dispatch/manual.py): create for a caller, reassign, cancel, record a follow-up."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch import manual
from dispatch.deferred import ARRIVAL_CHECK, arrival_check, message_ids, of_kind
from dispatch.inbound import receive_sms
from dispatch.offers import SEGMENT_UCS2, offer_order
from dispatch.providers import InboundSms, script_of
from models import Message, OfferAttempt, Order, OrderEvent, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.orders import snapshot, walk_to

T1, T2, T3 = "+8613800000001", "+8613800000002", "+8613800000003"
STAFF = "wang.dispatch"


def _order(db, resident=None, status="pending", tech=None, category="housekeeping", code="300001", **values) -> Order:
    order = Order(code=code, category=category, resident_id=resident.id if resident else None,
                  technician_id=tech.id if tech else None, created_at=utcnow() - timedelta(minutes=5), **values)
    db.add(order)
    walk_to(db, order, status)
    if tech is not None and status in ("accepted", "arrived", "completed"):
        order.accepted_at = utcnow() - timedelta(minutes=4)
    db.commit()
    return order


def _offered(db, settings, resident):
    """An order offered by the real offer step to the nearest technician."""
    order = _order(db, resident)
    offer_order(db, order.id, settings, utcnow())
    db.commit()
    return order


def _outbox(db, to=None) -> list[Message]:
    db.expire_all()
    query = select(Message).where(Message.direction == "outbound").order_by(Message.id)
    if to:
        query = query.where(Message.to_phone == to)
    return list(db.scalars(query))


def _events(db, order, kind) -> list[OrderEvent]:
    return list(db.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.kind == kind)))


# --- create ---------------------------------------------------------------------------------------

def test_an_order_for_a_registered_callers_number_belongs_to_the_resident(db):
    resident = people.resident(db)
    order = manual.create_order(db, "139 0476 1234", "daily_care", "换灯泡", STAFF, utcnow())
    db.commit()
    assert (order.resident_id, order.unregistered, order.status) == (resident.id, False, "pending")
    assert order.caller_phone == people.RESIDENT_MOBILE and order.detail == "换灯泡"
    [event] = _events(db, order, "status:pending")
    assert event.actor == STAFF


def test_an_unknown_number_makes_an_unregistered_order_as_the_phone_menu_does(db):
    order = manual.create_order(db, "13700001111", "housekeeping", "", STAFF, utcnow())
    db.commit()
    assert (order.resident_id, order.unregistered, order.caller_phone) == (None, True, "+8613700001111")


def test_an_inactive_residents_number_makes_an_unregistered_order(db):
    resident = people.resident(db)
    resident.active = False
    db.commit()
    order = manual.create_order(db, people.RESIDENT_MOBILE, "housekeeping", "", STAFF, utcnow())
    assert order.unregistered and order.resident_id is None


@pytest.mark.parametrize("phone, category, detail, reason", [
    ("12345", "housekeeping", "", "bad_phone"),
    ("", "housekeeping", "", "bad_phone"),
    ("13904761234", "plumbing", "", "bad_category"),
    ("13904761234", "housekeeping", "很" * 201, "detail_too_long"),
])
def test_bad_input_for_a_new_order_is_refused_and_adds_nothing(db, phone, category, detail, reason):
    with pytest.raises(manual.Refused) as refused:
        manual.create_order(db, phone, category, detail, STAFF, utcnow())
    db.rollback()
    assert refused.value.reason == reason
    assert db.scalars(select(Order)).all() == []


def test_an_unregistered_order_from_the_console_is_escalated_to_the_officers_by_the_worker(app, db, run_worker):
    from dispatch.jobs import enqueue_offer

    people.officer(db, "值班员", "+8613700000009")
    order = manual.create_order(db, "13700001111", "housekeeping", "", STAFF, utcnow())
    db.commit()
    enqueue_offer(app.extensions["hotline"].queue, order.id)
    run_worker()
    db.expire_all()
    assert db.get(Order, order.id).status == "escalated"
    assert [m.to_phone for m in _outbox(db)] == ["+8613700000009"]


# --- reassign -------------------------------------------------------------------------------------

def test_reassigning_an_offered_order_supersedes_the_offer_and_assigns_the_chosen_technician(db, settings):
    resident = people.resident(db)
    people.technician(db, "近师傅", T1, km_north=0.5)
    far = people.technician(db, "远师傅", T2, km_north=2.0)
    order = _offered(db, settings, resident)
    follow = manual.reassign(db, order.id, far.id, STAFF, settings, utcnow())
    db.commit()
    db.expire_all()
    order = db.get(Order, order.id)
    assert (order.status, order.technician_id) == ("accepted", far.id)
    assert [(a.technician.name, a.status) for a in order.offers] == [("近师傅", "superseded")]
    [event] = _events(db, order, "reassigned")
    assert event.actor == STAFF and "远师傅" in event.detail
    assert of_kind(follow, ARRIVAL_CHECK) == [arrival_check(order.id, order.accepted_at
                                                         + timedelta(minutes=settings.sla_arrival_minutes))]


def test_the_new_technician_gets_the_order_in_one_sms_and_the_resident_is_told_who_comes(db, settings):
    resident = people.resident(db)
    tech = people.technician(db, "张师傅", T1)
    order = _order(db, resident, status="escalated")
    follow = manual.reassign(db, order.id, tech.id, STAFF, settings, utcnow())
    db.commit()
    [to_tech] = _outbox(db, T1)
    assert order.code in to_tech.body and "到达" in to_tech.body and len(to_tech.body) <= SEGMENT_UCS2
    [to_resident] = _outbox(db, people.RESIDENT_MOBILE)
    assert "张师傅" in to_resident.body and order.code in to_resident.body
    assert sorted(message_ids(follow)) == sorted([to_tech.id, to_resident.id])


def test_the_assignment_sms_stays_one_segment_with_a_long_address_and_name(db, settings):
    resident = people.resident(db, name="阿卜杜热合曼·买买提依明·艾合买提江",
                               address="内蒙古自治区赤峰市巴林左旗林东镇向阳社区幸福家园小区东区十七号楼三单元五零二室")
    tech = people.technician(db, "张师傅", T1)
    order = _order(db, resident, status="escalated")
    manual.reassign(db, order.id, tech.id, STAFF, settings, utcnow())
    [sms] = _outbox(db, T1)
    assert len(sms.body) <= SEGMENT_UCS2 and "五零二室" in sms.body and order.code in sms.body


def test_taking_an_order_from_a_technician_tells_them_and_the_resident(db, settings):
    resident = people.resident(db)
    first = people.technician(db, "李师傅", T1)
    second = people.technician(db, "张师傅", T2)
    order = _order(db, resident, status="accepted", tech=first)
    before = order.accepted_at
    manual.reassign(db, order.id, second.id, STAFF, settings, utcnow())
    db.commit()
    [to_first] = _outbox(db, T1)
    assert order.code in to_first.body and "改派" in to_first.body
    [to_resident] = _outbox(db, people.RESIDENT_MOBILE)
    assert "改由张师傅" in to_resident.body
    db.expire_all()
    order = db.get(Order, order.id)
    assert order.technician_id == second.id and order.accepted_at > before


def test_a_landline_resident_is_told_of_the_reassignment_by_a_call(db, settings):
    resident = people.resident(db, phones=(people.RESIDENT_LANDLINE,))
    first = people.technician(db, "李师傅", T1)
    second = people.technician(db, "张师傅", T2)
    order = _order(db, resident, status="accepted", tech=first)
    manual.reassign(db, order.id, second.id, STAFF, settings, utcnow())
    [call] = _outbox(db, people.RESIDENT_LANDLINE)
    assert call.channel == "call" and any("张师傅" in s for s in script_of(call.body).sentences)


def test_reassigning_to_a_technician_with_a_pending_offer_accepts_that_offer(db, settings):
    resident = people.resident(db)
    tech = people.technician(db, "近师傅", T1, km_north=0.5)
    order = _offered(db, settings, resident)
    manual.reassign(db, order.id, tech.id, STAFF, settings, utcnow())
    db.commit()
    db.expire_all()
    [attempt] = db.scalars(select(OfferAttempt)).all()
    assert attempt.status == "accepted" and attempt.answered_at is not None


def test_a_late_accept_from_the_superseded_technician_is_told_the_order_was_taken(db, settings):
    resident = people.resident(db)
    people.technician(db, "近师傅", T1, km_north=0.5)
    other = people.technician(db, "远师傅", T2, km_north=2.0)
    order = _offered(db, settings, resident)
    manual.reassign(db, order.id, other.id, STAFF, settings, utcnow())
    db.commit()
    text, _ = receive_sms(db, InboundSms("SM" + "1" * 32, T1, ELDERLY_NUMBER, "1"), settings, utcnow())
    assert order.code in text and "他人" in text
    db.expire_all()
    assert db.get(Order, order.id).technician_id == other.id


@pytest.mark.parametrize("status", ["arrived", "completed", "cancelled"])
def test_an_order_past_reassigning_is_refused_without_change(db, settings, status):
    resident = people.resident(db)
    first = people.technician(db, "李师傅", T1)
    second = people.technician(db, "张师傅", T2)
    order = _order(db, resident, status=status, tech=first)
    before = snapshot(db)
    with pytest.raises(manual.Refused) as refused:
        manual.reassign(db, order.id, second.id, STAFF, settings, utcnow())
    db.rollback()
    assert refused.value.reason == "not_reassignable" and refused.value.values == {"status": status}
    assert snapshot(db) == before


def test_reassigning_to_an_inactive_or_unknown_or_the_same_technician_is_refused(db, settings):
    resident = people.resident(db)
    tech = people.technician(db, "李师傅", T1)
    gone = people.technician(db, "停用", T2, active=False)
    order = _order(db, resident, status="accepted", tech=tech)
    before = snapshot(db)
    for tech_id, reason in ((gone.id, "bad_technician"), (9999, "bad_technician"), (None, "bad_technician"),
                            (tech.id, "same_technician")):
        with pytest.raises(manual.Refused) as refused:
            manual.reassign(db, order.id, tech_id, STAFF, settings, utcnow())
        db.rollback()
        assert refused.value.reason == reason
    assert snapshot(db) == before


# --- cancel ---------------------------------------------------------------------------------------

def test_cancelling_records_the_reason_and_actor_and_tells_the_assigned_technician(db, settings):
    resident = people.resident(db)
    tech = people.technician(db, "李师傅", T1)
    order = _order(db, resident, status="accepted", tech=tech)
    follow = manual.cancel(db, order.id, "老人已自行解决", STAFF, settings, utcnow())
    db.commit()
    db.expire_all()
    order = db.get(Order, order.id)
    assert order.status == "cancelled" and order.cancelled_at is not None
    [event] = _events(db, order, "status:cancelled")
    assert (event.actor, event.detail) == (STAFF, "老人已自行解决")
    [sms] = _outbox(db, T1)
    assert order.code in sms.body and "取消" in sms.body and message_ids(follow) == [sms.id]


def test_cancelling_an_offered_order_supersedes_its_offer_and_no_further_offer_is_made(db, settings):
    resident = people.resident(db)
    people.technician(db, "近师傅", T1, km_north=0.5)
    people.technician(db, "远师傅", T2, km_north=2.0)
    order = _offered(db, settings, resident)
    manual.cancel(db, order.id, "重复下单", STAFF, settings, utcnow())
    db.commit()
    assert message_ids(offer_order(db, order.id, settings, utcnow())) == []
    db.commit()
    db.expire_all()
    assert [a.status for a in db.scalars(select(OfferAttempt))] == ["superseded"]


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_a_closed_order_cannot_be_cancelled(db, settings, status):
    order = _order(db, people.resident(db), status=status)
    before = snapshot(db)
    with pytest.raises(manual.Refused) as refused:
        manual.cancel(db, order.id, "误操作", STAFF, settings, utcnow())
    db.rollback()
    assert refused.value.reason == "not_cancellable"
    assert snapshot(db) == before


def test_a_cancel_without_a_reason_is_refused(db, settings):
    order = _order(db, people.resident(db))
    with pytest.raises(manual.Refused) as refused:
        manual.cancel(db, order.id, "   ", STAFF, settings, utcnow())
    db.rollback()
    assert refused.value.reason == "note_required"
    db.expire_all()
    assert db.get(Order, order.id).status == "pending"


# --- follow-up ------------------------------------------------------------------------------------

def test_recording_a_follow_up_clears_the_flag_and_keeps_the_note(db, settings):
    order = _order(db, people.resident(db), status="completed", rating=3, needs_follow_up=True)
    manual.record_follow_up(db, order.id, "已电话致歉,下周回访", STAFF, settings, utcnow())
    db.commit()
    db.expire_all()
    assert db.get(Order, order.id).needs_follow_up is False
    [event] = _events(db, order, "followed_up")
    assert (event.actor, event.detail) == (STAFF, "已电话致歉,下周回访")


def test_a_follow_up_on_an_order_not_flagged_is_refused(db, settings):
    order = _order(db, people.resident(db), status="completed")
    before = snapshot(db)
    with pytest.raises(manual.Refused) as refused:
        manual.record_follow_up(db, order.id, "note", STAFF, settings, utcnow())
    db.rollback()
    assert refused.value.reason == "no_follow_up_needed"
    assert snapshot(db) == before
