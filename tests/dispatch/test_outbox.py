"""The outbox's claim: rows a sending job queues are committed claimed by it, sent once, taken over when it dies;
the SID is stored in the database and in the job's session alike."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from dispatch import runtime
from dispatch.deferred import message_ids
from dispatch.jobs import offer_order_job
from dispatch.outbox import CLAIM_SECONDS, claim, deliver, queue_new, send_after_commit, send_claimed
from dispatch.providers import build_provider
from dispatch.reconcile import overdue_work
from models import Message, OrderEvent, make_session_factory, utcnow
from tests import people
from tests.orders import make_order, only_order, sent_to

T1 = "+8613800000001"


def _rows(key="offer:1"):
    return [{"key": key, "to_phone": T1, "body": "派单", "order_id": None}]


def _row(db, message_id) -> Message:
    db.expire_all()
    return db.get(Message, message_id)


def test_rows_a_sending_job_queues_are_committed_already_claimed_by_it(app, db):
    factory = app.extensions["hotline"].session_factory
    with factory() as session:
        send_after_commit(session)
        [message] = queue_new(session, _rows())
        assert claim(session, [message.id]) == [message]
        session.commit()
    row = _row(db, message.id)
    assert (row.status, row.attempts) == ("sending", 1) and row.claimed_at is not None


def test_another_worker_can_neither_claim_nor_send_a_row_a_live_job_claimed(app, db, settings, fake_twilio):
    factory = app.extensions["hotline"].session_factory
    with factory() as session:
        send_after_commit(session)
        [message] = queue_new(session, _rows())
        session.commit()
    with factory() as other:
        assert claim(other, [message.id]) == []
        other.rollback()
        deliver(other, message.id, build_provider(settings), settings.sender)
    assert fake_twilio.messages == []


def test_rows_queued_outside_a_sending_job_wait_queued_for_any_worker(app, db):
    factory = app.extensions["hotline"].session_factory
    with factory() as session:
        [message] = queue_new(session, _rows())
        session.commit()
    assert (_row(db, message.id).status, _row(db, message.id).attempts) == ("queued", 0)
    with factory() as other:
        assert [m.id for m in claim(other, [message.id])] == [message.id]


def test_a_claimed_row_left_by_a_dead_job_is_sent_once_after_the_claim_timeout(app, db, settings, fake_twilio):
    factory = app.extensions["hotline"].session_factory
    with factory() as session:  # the job commits its claimed row, then dies before sending
        send_after_commit(session)
        [message] = queue_new(session, _rows())
        session.commit()
    stale = utcnow() - timedelta(seconds=CLAIM_SECONDS + 1)
    db.execute(update(Message).where(Message.id == message.id).values(claimed_at=stale))
    db.commit()
    assert message.id in message_ids(overdue_work(db, utcnow(), settings))
    db.rollback()
    provider = build_provider(settings)
    for _ in range(2):  # the reconciler's send, and a duplicate of it
        with factory() as session:
            deliver(session, message.id, provider, settings.sender)
    assert sent_to(fake_twilio) == [T1]
    row = _row(db, message.id)
    assert (row.status, row.attempts, row.provider_sid) == ("sent", 2, fake_twilio.messages[0]["sid"])


def test_a_sent_row_has_the_same_sid_status_and_sender_in_the_database_as_in_the_session(app, db, settings,
                                                                                         fake_twilio):
    factory = app.extensions["hotline"].session_factory
    with factory() as session:
        [message] = queue_new(session, _rows())
        session.commit()
        sent = deliver(session, message.id, build_provider(settings), settings.sender)
        in_session = (sent.status, sent.provider_sid, sent.from_phone, sent.sent_at)
    row = _row(db, message.id)
    assert in_session == (row.status, row.provider_sid, row.from_phone, row.sent_at)
    assert row.status == "sent" and row.provider_sid == fake_twilio.messages[0]["sid"]
    assert row.from_phone == settings.sender and row.sent_at is not None


def test_an_offer_job_that_died_before_sending_is_not_resent_by_its_rerun_until_the_claim_times_out(
        app, db, settings, fake_twilio, monkeypatch):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    order = make_order(app, db, resident)
    runtime.configure(settings, queue=app.extensions["hotline"].queue,
                      session_factory=make_session_factory(app.extensions["hotline"].engine))
    monkeypatch.setattr("dispatch.jobs._hand_off", lambda *args: None)  # dies right after its commit
    offer_order_job(order.id)
    monkeypatch.undo()
    offer_order_job(order.id)  # a re-run while the claim is fresh: the decision stands, nothing is resent
    assert fake_twilio.messages == []
    row = db.scalars(select(Message).where(Message.key.like("offer:%"))).one()
    assert (row.status, row.attempts) == ("sending", 1)


def test_an_offer_leaves_the_order_offered_with_one_offer_event_then_the_status_change(app, db, run_worker,
                                                                                       fake_twilio):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    make_order(app, db, resident)
    run_worker()
    order = only_order(db)
    kinds = list(db.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)))
    assert kinds == ["status:pending", "offer", "status:offered"]
    assert order.status == "offered" and order.offered_at is not None
    [attempt] = order.offers
    assert (attempt.status, attempt.technician.phone) == ("pending", T1)
    assert sent_to(fake_twilio) == [T1]


def test_a_jobs_session_is_transactional_again_right_after_a_sid_store(app, db, settings, fake_twilio):
    rt = runtime.configure(settings, queue=app.extensions["hotline"].queue,
                           session_factory=make_session_factory(app.extensions["hotline"].engine))
    with rt.job_session() as session:
        send_after_commit(session)
        [message] = queue_new(session, _rows())
        session.commit()
        send_claimed(session, message, rt.provider, settings.sender)
        [undone] = queue_new(session, _rows("offer:2"))  # a decision after the send, then given up
        sent_id, undone_id = message.id, undone.id
        session.rollback()
    assert _row(db, sent_id).status == "sent"
    assert _row(db, undone_id) is None
