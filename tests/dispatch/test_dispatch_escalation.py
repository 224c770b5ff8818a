"""Dispatch through the RQ worker: timeouts, declines and escalation to the next technician and the officer."""
from __future__ import annotations

import time

from sqlalchemy import select

from models import Order, OrderEvent, set_status, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.dispatch.dispatch_helpers import T1, T2, T3, T4, T5, T6, _offers
from tests.orders import answer, call_in, make_order, only_order, scheduled_jobs, sent_to, texts_to

OFFICER = "+8613700000001"


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
