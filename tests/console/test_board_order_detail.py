"""An order's page on the board: its timeline of events, offers and SMS, and creating an order for a caller."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from models import Order, utcnow
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.console.board_helpers import (
    T1,
    UNKNOWN,
    _events,
    _flashes,
    _order,
    dispatcher,  # noqa: F401 - fixtures
)
from tests.orders import make_order, only_order, texts_to

OFFICER = "+8613700000009"


# --- an order's detail ----------------------------------------------------------------------------

def test_the_timeline_shows_events_offers_sms_sent_and_the_technicians_reply(app, db, tw, dispatcher, run_worker):
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    order = make_order(app, db, resident)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="1")
    run_worker()
    html = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True)
    timeline = html.split('id="timeline"')[1]
    assert "派单给张师傅" in timeline and "状态：派单中" in timeline and "状态：已接单" in timeline
    assert "短信 → +86****0001" in timeline and f"派单{order.code}" in timeline  # the offer SMS sent
    assert "张师傅回复" in timeline and f"已接单{order.code}" in timeline
    assert "短信 → +86****1234" in timeline  # the resident told who comes
    assert "badge sent" in timeline


def test_each_offer_appears_once_in_the_timeline(app, db, dispatcher, run_worker):
    order = make_order(app, db, people.resident(db))
    people.technician(db, "张师傅", T1)
    run_worker()
    timeline = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True).split('id="timeline"')[1]
    assert timeline.count("张师傅") == timeline.count("派单给张师傅") == 1


def test_the_timeline_is_in_time_order_and_names_who_acted(db, dispatcher):
    order = _order(db, people.resident(db), code="400001", minutes_ago=10)
    order.events[0].at = utcnow() - timedelta(minutes=10)
    db.commit()
    dispatcher.post(f"/console/orders/{order.id}/cancel",
                    data={"reason": "老人已自行解决", "csrf_token": dispatcher.csrf})
    html = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True)
    timeline = html.split('id="timeline"')[1]
    assert timeline.index("状态：待派单") < timeline.index("状态：已取消")
    assert "dispatcher-user" in timeline and "老人已自行解决" in timeline


def test_an_unknown_order_is_404(dispatcher):
    assert dispatcher.get("/console/orders/999").status_code == 404


# --- creating an order for a caller ---------------------------------------------------------------

def test_an_order_created_for_a_registered_caller_is_offered_like_a_calls_order(db, dispatcher, run_worker,
                                                                               fake_twilio):
    people.resident(db)
    people.technician(db, "张师傅", T1)
    resp = dispatcher.post("/console/orders/new", data={"phone": "139-0476-1234", "category": "housekeeping",
                                                        "detail": "水管漏水", "csrf_token": dispatcher.csrf},
                           follow_redirects=True)
    order = only_order(db)
    assert order.code in "".join(_flashes(resp.get_data(as_text=True)))
    assert order.resident is not None and not order.unregistered and order.detail == "水管漏水"
    assert _events(db, order, "status:pending")[0].actor == "dispatcher-user"
    run_worker()
    assert only_order(db).status == "offered" and len(texts_to(fake_twilio, T1)) == 1


def test_an_order_created_for_an_unknown_number_is_unregistered_and_escalated(db, dispatcher, run_worker, fake_twilio):
    people.officer(db, "值班员", OFFICER)
    resp = dispatcher.post("/console/orders/new", data={"phone": UNKNOWN, "category": "daily_care",
                                                        "csrf_token": dispatcher.csrf}, follow_redirects=True)
    order = only_order(db)
    assert order.unregistered and order.resident_id is None and order.caller_phone == UNKNOWN
    assert "未登记" in "".join(_flashes(resp.get_data(as_text=True)))
    run_worker()
    assert only_order(db).status == "escalated"
    [alert] = texts_to(fake_twilio, OFFICER)
    assert order.code in alert


def test_a_new_order_with_a_bad_number_is_refused_with_a_message(db, dispatcher):
    resp = dispatcher.post("/console/orders/new", data={"phone": "12345", "category": "daily_care",
                                                        "csrf_token": dispatcher.csrf}, follow_redirects=True)
    assert "电话号码无效" in "".join(_flashes(resp.get_data(as_text=True)))
    assert db.scalar(select(func.count(Order.id))) == 0
