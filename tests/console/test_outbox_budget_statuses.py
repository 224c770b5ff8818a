"""The message log names the SMS budget's statuses in the console's language and links a merged alert to its SMS."""
from __future__ import annotations

from models import Message

TECH = "+8613800001234"


def _rows(db) -> Message:
    merged = Message(key="merged:1", channel="sms", to_phone=TECH, status="sent", body="未保热线2条提醒")
    db.add(merged)
    db.flush()
    db.add_all([Message(key="assigned:1:1", channel="sms", to_phone=TECH, status="held", body="人工派单"),
                Message(key="sla-alert:1:1", channel="sms", to_phone=TECH, status="merged", body="提醒",
                        merged_into_id=merged.id)])
    db.commit()
    return merged


def test_held_and_merged_rows_are_labelled_in_chinese(staff, db):
    _rows(db)
    html = staff.login("admin").get("/console/outbox/").get_data(as_text=True)
    assert "超限待发" in html and "已合并发送" in html and "sms_budget." not in html


def test_a_merged_row_names_the_message_it_went_out_in(staff, db):
    merged = _rows(db)
    html = staff.login("admin").get("/console/outbox/").get_data(as_text=True)
    assert f"随第{merged.id}条合并发送" in html


def test_the_status_filter_offers_the_budgets_statuses(staff, db):
    _rows(db)
    resp = staff.login("dispatcher").get("/console/outbox/?status=held")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'value="held" selected' in html and "人工派单" in html
    assert "已合并发送</span>" not in html


def test_english_labels_in_the_english_console(staff, db):
    _rows(db)
    html = staff.login("admin").get("/console/outbox/?lang=en").get_data(as_text=True)
    assert "Held (SMS budget)" in html and "Sent merged" in html
