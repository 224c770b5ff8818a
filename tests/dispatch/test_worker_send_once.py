"""Every message delivered and a recorded provider SID never sent again (issue 4, property 3), even after a SIGKILL."""
from __future__ import annotations

import time

import pytest

from dispatch import outbox, reconcile
from dispatch.jobs import send_message_job
from dispatch.outbox import queue_message
from models import Message
from tests import people
from tests.dispatch.worker_reliability_helpers import T1, _offer_row
from tests.live import workers  # noqa: F401 - `workers` is a fixture
from tests.orders import make_order, texts_to


def _sms_requests(fake_twilio) -> list[dict]:
    return [r for r in fake_twilio.requests if r["path"].endswith("/Messages.json")]


# --- 3. every message delivered; a recorded SID never sent again -------------------------------------

@pytest.mark.parametrize("twilio_took_it, sent_in_all", [(False, 1), (True, 2)], ids=["lost", "taken"])
def test_a_worker_killed_mid_send_has_the_message_sent_by_the_next_pass(app, db, workers, run_worker, fake_twilio,
                                                                       monkeypatch, twilio_took_it, sent_in_all):
    """kill -9 while Twilio has the request: the claim goes stale and the message is sent again, once.

    "taken" is the one documented window for a duplicate: Twilio accepted the message but the worker died
    before recording its SID. The outbox errs toward delivery: a second copy, never none.
    """
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    fake_twilio.delay_next(1, seconds=30, outcome="accept" if twilio_took_it else "drop")
    make_order(app, db, resident)
    worker = workers.start()
    assert fake_twilio.wait_held(1, timeout=15), worker.output()
    worker.kill()
    row = _offer_row(db)
    assert (row.status, row.provider_sid, row.attempts) == ("sending", None, 1)
    fake_twilio.release()  # the request the dead worker left open ends, taken or not
    workers.wait_until(lambda: len(fake_twilio.messages) == int(twilio_took_it), 5, what="the held request")

    # Nobody will finish that job: its claim and its RQ "started" entry go stale (grace lowered from 60/90 s).
    monkeypatch.setattr(outbox, "CLAIM_SECONDS", 1)  # the claim and the reconciler's overdue query read it
    monkeypatch.setattr(reconcile, "RUNNING_GRACE_SECONDS", 1)
    time.sleep(1.1)
    run_worker()
    row = _offer_row(db)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(texts_to(fake_twilio, T1)) == sent_in_all
    assert row.provider_sid == fake_twilio.messages[-1]["sid"]
    run_worker()  # and nothing more after that
    assert len(texts_to(fake_twilio, T1)) == sent_in_all


def test_a_message_whose_provider_sid_was_recorded_is_never_sent_again(app, db, run_worker, fake_twilio,
                                                                       monkeypatch):
    message = queue_message(db, "notify:test", T1, "张师傅已接单")
    db.commit()
    queue = app.extensions["hotline"].queue
    queue.enqueue(send_message_job, message.id)
    queue.enqueue(send_message_job, message.id)  # the same send job twice (a retry, a reconcile pass)
    run_worker()
    assert len(_sms_requests(fake_twilio)) == 1
    db.expire_all()
    row = db.get(Message, message.id)
    assert row.status == "sent" and row.provider_sid == fake_twilio.messages[0]["sid"]
    monkeypatch.setattr(outbox, "CLAIM_SECONDS", 0)  # even when its claim is long stale
    queue.enqueue(send_message_job, message.id)
    run_worker()
    assert len(_sms_requests(fake_twilio)) == 1
