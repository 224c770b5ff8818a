"""The arrival call (issue 15): the resident confirms (1) or disputes (2) the technician's arrival; silence is
tried once more, then the visit is left unverified; a resident with no phone is not called."""
from __future__ import annotations

from sqlalchemy import select, update

from dispatch.arrival_calls import record_answer
from dispatch.jobs import verify_arrival_job
from models import Message, Order, Verification, Visit
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.orders import make_order, only_order, texts_to
from tests.visits import OFFICER, TECH, accepted, arrival_calls, arrive, events, gather_action, retry_due, visit


def test_an_arrival_opens_a_pending_visit_and_the_worker_calls_the_resident_at_once(tw, db, run_worker, fake_twilio):
    order = arrive(tw, db, run_worker)
    opened = visit(db)
    assert (opened.order_id, opened.arrival_source, opened.verification) == (order.id, "sms", "pending")
    assert opened.arrived_at == order.arrived_at
    run_worker()
    [call] = arrival_calls(fake_twilio)
    assert call["to"] == people.RESIDENT_MOBILE and call["from_"] == ELDERLY_NUMBER
    assert "服务人员到了吗？到了请按1，没有到请按2" in call["twiml"]
    assert 'rate="slow"' in call["twiml"] and 'language="cmn-CN"' in call["twiml"]
    assert gather_action(call).endswith(f"/twilio/voice/arrival?visit={opened.id}&try=1&end=1")
    assert visit(db).verify_attempts == 1


def test_a_landline_resident_is_called_on_the_landline(tw, db, run_worker, fake_twilio):
    arrive(tw, db, run_worker, phones=(people.RESIDENT_LANDLINE,))
    run_worker()
    assert [c["to"] for c in arrival_calls(fake_twilio)] == [people.RESIDENT_LANDLINE]


def test_key_1_verifies_the_visit(tw, db, run_worker, settings):
    order = arrive(tw, db, run_worker)
    run_worker()
    assert record_answer(db, visit(db), "1", settings, order.arrived_at) == []
    db.commit()
    assert visit(db).verification == Verification.VERIFIED and visit(db).verified_at is not None
    assert only_order(db).needs_follow_up is False
    assert events(db, order, "visit_verified") == [("visit_verified", "resident pressed 1")]


def test_key_2_disputes_the_visit_flags_the_order_and_texts_the_officers_on_duty(
        tw, db, run_worker, settings, fake_twilio):
    people.officer(db, "李干事", OFFICER)
    order = arrive(tw, db, run_worker)
    run_worker()
    follow = record_answer(db, visit(db), "2", settings, order.arrived_at)
    db.commit()
    assert visit(db).verification == Verification.DISPUTED
    assert only_order(db).needs_follow_up is True
    assert [kind for kind, _ in events(db, order, "visit_disputed", "needs_follow_up")] == [
        "visit_disputed", "needs_follow_up"]
    assert len(follow) == 1
    run_worker()
    [alert] = texts_to(fake_twilio, OFFICER)
    assert order.code in alert and "按2" in alert


def test_only_the_first_answer_counts(tw, db, run_worker, settings):
    order = arrive(tw, db, run_worker)
    run_worker()
    record_answer(db, visit(db), "1", settings, order.arrived_at)
    assert record_answer(db, visit(db), "2", settings, order.arrived_at) == []
    db.commit()
    assert visit(db).verification == Verification.VERIFIED and only_order(db).needs_follow_up is False


def test_silence_is_tried_a_second_time_after_the_retry_minutes(tw, app, db, run_worker, fake_twilio):
    arrive(tw, db, run_worker)
    run_worker()
    first = visit(db)
    assert (first.next_verify_at - first.arrived_at).total_seconds() >= 5 * 60 - 1
    run_worker()  # not due yet: nothing more
    assert len(arrival_calls(fake_twilio)) == 1
    retry_due(app, db)
    run_worker()
    calls = arrival_calls(fake_twilio)
    assert len(calls) == 2 and gather_action(calls[1]).endswith("&try=2&end=1")
    assert (visit(db).verify_attempts, visit(db).verification) == (2, "pending")


def test_silence_twice_leaves_the_visit_unverified_with_the_reason(tw, app, db, run_worker, fake_twilio):
    order = arrive(tw, db, run_worker)
    run_worker()
    retry_due(app, db)
    run_worker()
    retry_due(app, db)
    run_worker()
    assert len(arrival_calls(fake_twilio)) == 2
    done = visit(db)
    assert (done.verification, done.next_verify_at) == ("unverified", None)
    assert events(db, order, "visit_unverified") == [("visit_unverified", "no answer after 2 calls")]


def test_running_the_job_twice_and_reconciling_place_each_try_once(tw, app, db, run_worker, fake_twilio):
    arrive(tw, db, run_worker)
    run_worker()
    app.extensions["hotline"].queue.enqueue(verify_arrival_job, visit(db).id, 1)
    run_worker()
    assert len(arrival_calls(fake_twilio)) == 1
    assert len(db.scalars(select(Message).where(Message.key.like("arrival:%"))).all()) == 1


def test_a_lost_first_try_is_placed_by_the_reconciler(tw, app, db, run_worker, fake_twilio):
    arrive(tw, db, run_worker)
    app.extensions["hotline"].queue.connection.flushdb()  # Redis lost the job
    run_worker()
    assert len(arrival_calls(fake_twilio)) == 1


def test_a_resident_with_no_phone_is_not_called_and_the_visit_is_unverified_with_a_reason(
        app, db, tw, run_worker, fake_twilio):
    resident = people.resident(db, phones=())
    people.technician(db, "张师傅", TECH)
    order = make_order(app, db, resident)
    run_worker()
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="1")
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="到达")
    run_worker()
    assert arrival_calls(fake_twilio) == []
    assert visit(db).verification == "unverified"
    assert events(db, order, "visit_unverified") == [("visit_unverified", "no phone to call the resident on")]


def test_an_accepted_order_has_no_visit_until_the_technician_arrives(tw, db, run_worker):
    accepted(tw, db, run_worker)
    db.expire_all()
    assert db.scalars(select(Order)).one().status == "accepted"
    assert db.scalars(select(Visit)).all() == []


def test_an_order_cancelled_before_the_call_is_not_called_about(tw, app, db, run_worker, fake_twilio):
    order = arrive(tw, db, run_worker)
    db.execute(update(Order).where(Order.id == order.id).values(status="cancelled"))
    db.commit()
    run_worker()
    assert arrival_calls(fake_twilio) == [] and visit(db).next_verify_at is None
