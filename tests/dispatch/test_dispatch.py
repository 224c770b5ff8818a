"""Dispatch through the RQ worker: who is offered an order, what the offer says, timeouts, escalation, sending."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.jobs import enqueue_offer
from dispatch.matching import candidates
from models import Message, OfferAttempt, Order, OrderEvent, set_status, utcnow
from models.phone import mask
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.orders import EMERGENCY, answer, call_in, make_order, only_order, scheduled_jobs, sent_to, texts_to

T1, T2, T3, T4, T5, T6 = (f"+86138000000{i:02d}" for i in range(1, 7))
OFFICER = "+8613700000001"
LONG_ADDRESS = "内蒙古自治区赤峰市巴林左旗林东镇向阳社区幸福家园小区东区十七号楼三单元五零二室"
# Long enough that even the shortest address leaves no room for all of it.
LONG_NAME = "阿卜杜热合曼·买买提依明·艾合买提江·努尔麦麦提·吐尔逊·阿不都克里木·热合曼"


def _offers(db, order_id):
    db.expire_all()
    return list(db.scalars(select(OfferAttempt).where(OfferAttempt.order_id == order_id)
                           .order_by(OfferAttempt.id)))


def _names(cands):
    return [c.technician.name for c in cands]


def _unsent_order(db, resident, category="housekeeping"):
    order = Order(code="100200", category=category, resident_id=resident.id, created_at=utcnow())
    db.add(order)
    db.commit()
    return order


# --- matching -----------------------------------------------------------------------------------

def test_only_active_technicians_with_the_category_as_a_skill_are_candidates(db):
    order = _unsent_order(db, people.resident(db))
    people.technician(db, "有技能", T1, skills="daily_care;housekeeping")
    people.technician(db, "无技能", T2, skills="daily_care;companionship")
    people.technician(db, "停用", T3, active=False)
    people.technician(db, "近似技能", T4, skills="housekeeping_plus")
    assert _names(candidates(db, order, 3.0)) == ["有技能"]


def test_technician_with_an_accepted_or_arrived_order_is_skipped(db):
    resident = people.resident(db)
    order = _unsent_order(db, resident)
    people.technician(db, "空闲", T1, km_north=2.0)
    on_way = people.technician(db, "已接单", T2, km_north=0.5)
    on_site = people.technician(db, "已到达", T3, km_north=0.6)
    done = people.technician(db, "已完成", T4, km_north=0.7)
    for code, tech, status in (("200001", on_way, "accepted"), ("200002", on_site, "arrived"),
                               ("200003", done, "completed")):
        db.add(Order(code=code, category="daily_care", resident_id=resident.id, technician_id=tech.id,
                     status=status, created_at=utcnow()))
    db.commit()
    assert _names(candidates(db, order, 3.0)) == ["已完成", "空闲"]


def test_candidates_are_nearest_first(db):
    order = _unsent_order(db, people.resident(db))
    people.technician(db, "二公里", T1, km_north=2.0)
    people.technician(db, "半公里", T2, km_north=0.5)
    people.technician(db, "一公里", T3, km_north=-1.0)
    found = candidates(db, order, 3.0)
    assert _names(found) == ["半公里", "一公里", "二公里"]
    assert found[0].distance_km == pytest.approx(0.5, abs=0.01)


def test_inside_the_service_radius_before_outside_and_unplaceable_technician_last(db):
    order = _unsent_order(db, people.resident(db))
    nowhere = people.technician(db, "无坐标", T1)
    nowhere.lat = nowhere.lng = None
    db.commit()
    people.technician(db, "圈外", T2, km_north=8.0)
    people.technician(db, "圈内", T3, km_north=2.5)
    found = candidates(db, order, 3.0)
    assert _names(found) == ["圈内", "圈外", "无坐标"]
    assert [c.inside_radius for c in found] == [True, False, False]


def test_service_radius_setting_decides_who_is_inside(db):
    order = _unsent_order(db, people.resident(db))
    people.technician(db, "二公里半", T1, km_north=2.5)
    assert candidates(db, order, 3.0)[0].inside_radius
    assert not candidates(db, order, 1.0)[0].inside_radius


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


# --- no answer, declines, escalation ------------------------------------------------------------

def test_offer_timeout_is_scheduled_in_rq_at_the_deadline(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    order = make_order(app, db, resident)
    run_worker(offer_timeout_seconds=120)
    [attempt] = _offers(db, order.id)
    [job] = [j for j in scheduled_jobs(app) if j.func_name == "dispatch.jobs.expire_offer_job"]
    assert job.args == (attempt.id,)
    at = app.extensions["hotline"].queue.scheduled_job_registry.get_scheduled_time(job)
    assert abs((at - attempt.expires_at).total_seconds()) < 2
    assert abs((attempt.expires_at - attempt.sent_at).total_seconds() - 120) < 1


def test_unanswered_offer_goes_to_the_next_candidate_after_the_timeout(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    order = make_order(app, db, resident)
    # 2 s, not 1: a loaded CI machine must not reach the deadline between the first two runs.
    run_worker(offer_timeout_seconds=2)
    run_worker(offer_timeout_seconds=2)  # before the deadline nothing moves
    assert sent_to(fake_twilio) == [T1]
    time.sleep(2.2)
    run_worker(offer_timeout_seconds=2)
    assert sent_to(fake_twilio) == [T1, T2]
    assert [a.status for a in _offers(db, order.id)] == ["expired", "pending"]
    assert only_order(db).status == "offered"


def test_answered_offer_is_not_timed_out(app, tw, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    order = make_order(app, db, resident)
    run_worker(offer_timeout_seconds=1)
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="1")
    time.sleep(1.2)
    run_worker(offer_timeout_seconds=1)
    assert T2 not in sent_to(fake_twilio)
    assert [a.status for a in _offers(db, order.id)] == ["accepted"]
    assert only_order(db).status == "accepted"


def test_late_accept_after_the_timeout_is_told_the_order_went_to_another(app, tw, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    order = make_order(app, db, resident)
    run_worker(offer_timeout_seconds=1)
    time.sleep(1.2)
    run_worker(offer_timeout_seconds=1)
    tw.sms(from_=T2, to=ELDERLY_NUMBER, body="1")
    late = tw.sms(from_=T1, to=ELDERLY_NUMBER, body="1")
    assert "已由他人接单" in answer(late) and order.code in answer(late)
    assert only_order(db).technician.phone == T2


def test_decline_offers_the_order_to_the_next_candidate_at_once(tw, db, run_worker, fake_twilio):
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="拒绝")
    run_worker()
    assert sent_to(fake_twilio) == [T1, T2]
    order = only_order(db)
    assert [a.status for a in _offers(db, order.id)] == ["declined", "pending"]


def test_exhausted_candidates_escalate_and_alert_exactly_the_on_duty_elderly_officers(tw, db, run_worker,
                                                                                     fake_twilio):
    people.resident(db)
    people.technician(db, "张师傅", T1)
    people.officer(db, "值班员", OFFICER)
    people.officer(db, "二线", "+8613700000002", tier=2)
    people.officer(db, "下班", "+8613700000003", hours=(-10, -2))
    people.officer(db, "未保线", "+8613700000004", line="child")
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="2")
    run_worker()
    order = only_order(db)
    assert order.status == "escalated" and order.escalated_at is not None
    alerted = sorted(set(sent_to(fake_twilio)) - {T1})
    assert alerted == [OFFICER, "+8613700000002"]
    [alert] = texts_to(fake_twilio, OFFICER)
    assert order.code in alert and "13904761234" in alert


def test_order_nobody_can_take_is_escalated_at_once(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "只会陪伴", T1, skills="companionship")
    people.officer(db, "值班员", OFFICER)
    make_order(app, db, resident)
    run_worker()
    assert only_order(db).status == "escalated"
    assert sent_to(fake_twilio) == [OFFICER]


def test_escalation_with_nobody_on_the_rota_alerts_the_supervisors(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.officer(db, "主任", "+8613700000009", role="supervisor", line=None)
    make_order(app, db, resident)
    run_worker()
    assert sent_to(fake_twilio) == ["+8613700000009"]


def test_five_unanswered_offers_escalate_though_candidates_remain(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    for i, phone in enumerate((T1, T2, T3, T4, T5, T6)):
        people.technician(db, f"师傅{i}", phone, km_north=0.5 + i)
    people.officer(db, "值班员", OFFICER)
    order = make_order(app, db, resident)
    # A zero timeout lets every offer expire within one burst, so the test need not wait five times.
    run_worker(offer_timeout_seconds=0)
    assert [a.status for a in _offers(db, order.id)] == ["expired"] * 5
    assert only_order(db).status == "escalated"
    assert T6 not in sent_to(fake_twilio) and OFFICER in sent_to(fake_twilio)


def test_escalation_is_kept_as_an_event_with_its_reason(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    order = make_order(app, db, resident)
    run_worker()
    db.expire_all()
    events = list(db.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)))
    assert [(e.kind, e.detail) for e in events if e.kind == "status:escalated"] == [("status:escalated",
                                                                                    "no candidates")]


def test_order_whose_enqueue_was_lost_is_offered_when_the_worker_starts(db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    order = Order(code="300400", category="housekeeping", resident_id=resident.id, created_at=utcnow())
    db.add(order)
    set_status(db, order, "pending")
    db.commit()  # committed, but never enqueued (Redis was down)
    run_worker()
    assert sent_to(fake_twilio) == [T1]
    assert only_order(db).status == "offered"


# --- notifying the resident ---------------------------------------------------------------------

def test_accept_tells_a_mobile_resident_by_sms_who_is_coming(tw, db, run_worker, fake_twilio):
    people.resident(db)
    people.technician(db, "张师傅", T1)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="接单")
    run_worker()
    [notice] = texts_to(fake_twilio, people.RESIDENT_MOBILE)
    assert "张师傅" in notice and "13800000001" in notice and "15分钟" in notice
    assert fake_twilio.calls == []


def test_accept_calls_a_landline_resident_in_mandarin(tw, db, run_worker, fake_twilio):
    people.resident(db, phones=(people.RESIDENT_LANDLINE,))
    people.technician(db, "张师傅", T1)
    call_in(tw, people.RESIDENT_LANDLINE)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="接单")
    run_worker()
    [call] = fake_twilio.calls
    assert call["to"] == people.RESIDENT_LANDLINE and call["from_"] == ELDERLY_NUMBER
    assert 'language="cmn-CN"' in call["twiml"] and "张师傅" in call["twiml"] and "15分钟" in call["twiml"]
    assert texts_to(fake_twilio, people.RESIDENT_LANDLINE) == []


# --- provider faults ----------------------------------------------------------------------------

def _offer_row(db) -> Message:
    db.expire_all()
    return db.scalars(select(Message).where(Message.key.like("offer:%"))).one()


def _send_jobs(app):
    return [j for j in scheduled_jobs(app) if j.func_name == "dispatch.jobs.send_message_job"]


def test_rate_limited_send_is_scheduled_for_retry_and_stays_queued(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    fake_twilio.fail_next(1, 429, 20429)
    run_worker()
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("queued", 1)
    assert fake_twilio.messages == []
    [job] = _send_jobs(app)
    assert job.args == (row.id,)
    at = app.extensions["hotline"].queue.scheduled_job_registry.get_scheduled_time(job)
    assert 2 <= (at - utcnow()).total_seconds() <= 10


def test_rate_limited_send_goes_out_once_when_its_retry_is_due(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    fake_twilio.fail_next(1, 429, 20429)
    run_worker()
    registry = app.extensions["hotline"].queue.scheduled_job_registry
    for job in _send_jobs(app):  # let the retry interval pass without waiting for it
        registry.schedule(job, utcnow() - timedelta(seconds=1))
    run_worker()
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("sent", 2)
    assert sent_to(fake_twilio) == [T1]
    assert row.provider_sid == fake_twilio.messages[0]["sid"]


def test_permanent_failure_marks_the_message_failed_and_is_not_retried(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    fake_twilio.set_number_behaviour(T1, "unsubscribed")
    run_worker()
    run_worker()
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "21610" in row.error
    assert _send_jobs(app) == []
    assert len([r for r in fake_twilio.requests if r["path"].endswith("/Messages.json")]) == 1


# --- local mode ---------------------------------------------------------------------------------

def test_local_mode_keeps_messages_in_the_outbox_and_sends_nothing(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    run_worker(twilio_account_sid="")
    row = _offer_row(db)
    assert row.status == "local" and row.sent_at is not None
    assert fake_twilio.requests == []


def test_flask_outbox_lists_local_messages_with_masked_numbers(app, db, runner, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    order = make_order(app, db, resident)
    run_worker(twilio_account_sid="")
    result = runner.invoke(args=["outbox"])
    assert result.exit_code == 0, result.output
    assert mask(T1) in result.output and T1 not in result.output
    assert order.code in result.output and "local" in result.output


def test_flask_outbox_full_shows_whole_numbers(app, db, runner, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    run_worker(twilio_account_sid="")
    assert T1 in runner.invoke(args=["outbox", "--full"]).output


def test_unreachable_technician_is_skipped_at_once_for_the_next_one(app, db, run_worker, fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.0)
    make_order(app, db, resident)
    fake_twilio.set_number_behaviour(T1, "unsubscribed")
    run_worker()
    order = only_order(db)
    assert [a.status for a in order.offers] == ["failed", "pending"]
    assert sent_to(fake_twilio) == [T2]
