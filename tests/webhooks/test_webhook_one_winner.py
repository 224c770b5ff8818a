"""One winner with real concurrency (issue 4, property 5): technicians accepting at once make one assignment."""
from __future__ import annotations

from datetime import timedelta

from models import OfferAttempt, Order, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.live import http_tw, in_parallel, serve
from tests.orders import answer, only_order, texts_to, walk_to
from tests.webhooks.reliability_helpers import (
    _events,
    offered,  # noqa: F401 - fixtures
)

# --- 5. one winner, with real concurrency ---------------------------------------------------------

def test_ten_technicians_accepting_at_the_same_moment_make_exactly_one_assignment(app, tw, db, run_worker,
                                                                                 fake_twilio):
    resident = people.resident(db)
    phones = [f"+86138000001{i:02d}" for i in range(10)]
    techs = [people.technician(db, f"急救{i}", phone, km_north=0.1 * (i + 1), skills="emergency")
             for i, phone in enumerate(phones)]
    order = Order(code="500600", category="emergency", resident_id=resident.id, created_at=utcnow())
    db.add(order)
    walk_to(db, order, "offered")
    now = utcnow()
    for tech in techs:
        db.add(OfferAttempt(order=order, technician=tech, sent_at=now, expires_at=now + timedelta(minutes=3)))
    db.commit()
    with serve(app) as base:
        http = http_tw(base)
        responses = in_parallel(lambda phone: http.sms(from_=phone, to=ELDERLY_NUMBER, body="1"),
                                [(p,) for p in phones])
    said = dict(zip(phones, (answer(r) for r in responses)))
    order = only_order(db)
    assert order.status == "accepted" and order.technician_id is not None
    winner = order.technician.phone
    assert [p for p, text in said.items() if "已接单" in text and "他人" not in text] == [winner]
    assert sorted(p for p, text in said.items() if "已由他人接单" in text) == sorted(set(phones) - {winner})
    assert _events(db, order.id, "status:accepted") == 1
    assert sorted(a.status for a in order.offers) == ["accepted"] + ["superseded"] * 9
    run_worker()
    assert len(texts_to(fake_twilio, people.RESIDENT_MOBILE)) == 1
