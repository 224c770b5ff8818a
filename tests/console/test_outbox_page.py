"""The message log page: SMS and calls masked, calls read as their words; alerts of child-line cases for duty
officers only, messages about orders for dispatchers only."""
from __future__ import annotations

import pytest

from dispatch.voice_messages import spoken_notification
from models import Case, Message, Order, utcnow

TECH = "+8613800001234"
OFFICER = "+8613800005678"


@pytest.fixture
def messages(db) -> dict[str, Message]:
    """One message of each kind the log holds."""
    case = Case(code="123456", status="voicemail", caller="+8613904761234", call_sid="CA" + "1" * 32)
    order = Order(code="654321", category="housekeeping", created_at=utcnow())
    db.add_all([case, order])
    db.flush()
    rows = {
        "case_alert": Message(key="case-alert:1:1:1", channel="sms", to_phone=OFFICER, status="sent",
                              body="未保热线个案123456有留言,请回电13904761234。", case_id=case.id),
        "offer": Message(key="offer:1", channel="sms", to_phone=TECH, status="local", body="ORDER-OFFER-TEXT",
                         order_id=order.id),
        "call": Message(key="notify:accepted:1", channel="call", to_phone="+864768223344", status="local",
                        body=spoken_notification("zh-CN", "您的服务单已由李师傅接单"), order_id=order.id),
        "inbound": Message(key="in:SM1", direction="inbound", channel="sms", from_phone=TECH, to_phone="+864768000001",
                           status="received", body="INBOUND-REPLY"),
        "twiml": Message(key="reply:SM1", channel="sms", to_phone=TECH, status="twiml", body="TWIML-ANSWER"),
    }
    db.add_all(rows.values())
    db.commit()
    return rows


def page(client, query: str = "") -> str:
    resp = client.get(f"/console/outbox/{query}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_dispatcher_sees_order_messages_and_inbound_sms_but_not_child_line_alerts(staff, messages):
    html = page(staff.login("dispatcher"))
    assert "ORDER-OFFER-TEXT" in html and "INBOUND-REPLY" in html and "李师傅" in html
    assert "123456" not in html and "未保热线" not in html


def test_duty_officer_sees_child_line_alerts_and_inbound_sms_but_not_order_messages(staff, messages):
    html = page(staff.login("duty_officer"))
    assert "未保热线个案123456" in html and "INBOUND-REPLY" in html
    assert "ORDER-OFFER-TEXT" not in html and "李师傅" not in html


def test_admin_sees_every_message(staff, messages):
    html = page(staff.login("admin"))
    assert all(text in html for text in ("未保热线个案123456", "ORDER-OFFER-TEXT", "INBOUND-REPLY", "李师傅"))


def test_instant_sms_answers_are_left_out_as_flask_outbox_does(staff, messages):
    assert "TWIML-ANSWER" not in page(staff.login("admin"))


def test_numbers_are_masked_in_the_columns_and_inside_the_texts(staff, messages):
    html = page(staff.login("admin"))
    assert "+86****1234" in html and "请回电+86****1234" in html  # a recipient; the caller inside the alert
    for raw in (TECH, OFFICER, "13904761234", "13800001234"):
        assert raw not in html


def test_a_call_is_shown_as_a_voice_call_with_its_words_once(staff, messages):
    html = page(staff.login("dispatcher"), "?channel=call")
    assert "（语音呼叫）" in html and html.count("您的服务单已由李师傅接单") == 1
    assert "<Say" not in html and "&lt;Say" not in html and "ORDER-OFFER-TEXT" not in html


@pytest.mark.parametrize("query, shown, hidden", [
    ("?direction=inbound", "INBOUND-REPLY", "ORDER-OFFER-TEXT"),
    ("?status=local", "ORDER-OFFER-TEXT", "INBOUND-REPLY"),
    ("?channel=sms", "ORDER-OFFER-TEXT", "李师傅"),
], ids=["direction", "status", "channel"])
def test_message_log_filters(staff, messages, query, shown, hidden):
    html = page(staff.login("admin"), query)
    assert shown in html and hidden not in html


def test_unknown_filter_values_are_ignored(staff, messages):
    assert "ORDER-OFFER-TEXT" in page(staff.login("admin"), "?status=bogus&channel=fax")


def test_message_log_is_paginated(staff, db):
    db.add_all(Message(key=f"m:{n}", channel="sms", to_phone=TECH, status="local", body=f"BODY-{n:03d}")
               for n in range(101))
    db.commit()
    client = staff.login("dispatcher")
    first = page(client)
    assert first.count("<tr data-message-id=") == 100 and "BODY-100" in first and "BODY-000" not in first
    assert "BODY-000" in page(client, "?page=2")


def test_not_logged_in_is_sent_to_the_login_page(client, messages):
    resp = client.get("/console/outbox/")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]
