"""Dispatch through the RQ worker in local mode: messages stay in the outbox, listed with masked numbers."""
from __future__ import annotations

from models.phone import mask
from tests import people
from tests.dispatch.dispatch_helpers import T1, _offer_row
from tests.orders import make_order

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
