"""The board's order page shows the visit (issue 15): its verification, length against the minimum, its flags."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from models import PriceRule, Visit, utcnow
from tests.conftest import ELDERLY_NUMBER
from tests.console.board_helpers import dispatcher  # noqa: F401 - fixtures
from tests.visits import TECH, accepted, arrive


def section(html: str) -> str:
    """The visit card of an order page."""
    return html.split('id="order-visit"')[1].split("</section>")[0]


def test_an_order_not_yet_arrived_says_so(tw, db, run_worker, dispatcher):
    order = accepted(tw, db, run_worker)
    html = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True)
    assert "尚未到达" in section(html)


def test_a_pending_visit_shows_it_awaits_the_resident_and_the_arrival_call_in_the_timeline(
        tw, db, run_worker, dispatcher):
    order = arrive(tw, db, run_worker)
    run_worker()
    html = dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True)
    card = section(html)
    assert "待老人确认" in card and "短信" in card and "确认电话" in card
    timeline = html.split('id="timeline"')[1]
    assert "上门开始" in timeline and "到达确认电话" in timeline


def test_a_short_completed_visit_shows_its_minutes_the_minimum_and_the_flag(tw, db, run_worker, dispatcher):
    db.add(PriceRule(category="housekeeping", price_fen=4000, min_minutes=30,
                     valid_from=(utcnow() - timedelta(days=5)).date()))
    db.commit()
    order = arrive(tw, db, run_worker)
    db.execute(update(Visit).values(arrived_at=utcnow() - timedelta(minutes=12)))
    db.commit()
    tw.sms(from_=TECH, to=ELDERLY_NUMBER, body="完成")
    card = section(dispatcher.get(f"/console/orders/{order.id}").get_data(as_text=True))
    assert "12分钟" in card and "最短时长 30分钟" in card and 'id="visit-too-short"' in card
    assert "时长不足" in card


def test_the_english_page_shows_the_visit_in_english(tw, db, run_worker, dispatcher):
    order = arrive(tw, db, run_worker)
    card = section(dispatcher.get(f"/console/orders/{order.id}?lang=en").get_data(as_text=True))
    assert "Awaiting the resident" in card and "待老人确认" not in card
