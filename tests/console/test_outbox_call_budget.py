"""The message log names the call budget's statuses and says in words why a held call was not placed, or that the
provider refused it for the number's limit, in the console's language."""
from __future__ import annotations

from dispatch.call_budget import LIMITED
from dispatch.held_calls import CANCELLED_PREFIX
from models import Message

SUPERVISOR = "+8613800009001"


def _rows(db) -> None:
    db.add_all([
        Message(key="case-call:1:3:1", channel="call", to_phone=SUPERVISOR, status="held", body="{}"),
        Message(key="case-call:2:3:1", channel="call", to_phone=SUPERVISOR, status="cancelled", body="{}",
                error=CANCELLED_PREFIX + "case_done"),
        Message(key="notify:accepted:9", channel="call", to_phone=SUPERVISOR, status="held", body="{}",
                error=LIMITED + "aliyun isv.BUSINESS_LIMIT_CONTROL: 13800009001 触发流控"),
        Message(key="assigned:1:1", channel="sms", to_phone=SUPERVISOR, status="held", body="人工派单")])
    db.commit()


def test_held_and_cancelled_calls_are_labelled_in_chinese(staff, db):
    _rows(db)
    html = staff.login("admin").get("/console/outbox/").get_data(as_text=True)
    assert "超限待拨" in html and "已取消(无需再拨)" in html and "超限待发" in html
    assert "未拨出:个案已确认或已结案" in html and "call_budget." not in html and "not placed:" not in html


def test_a_provider_refusal_is_said_in_words_with_numbers_masked(staff, db):
    _rows(db)
    html = staff.login("admin").get("/console/outbox/").get_data(as_text=True)
    assert "运营商拒绝:该号码的呼叫已达上限,稍后自动重拨" in html and "13800009001" not in html


def test_english_labels_and_reasons_in_the_english_console(staff, db):
    _rows(db)
    html = staff.login("admin").get("/console/outbox/?lang=en").get_data(as_text=True)
    assert "Held (call limit)" in html and "Cancelled (no longer needed)" in html
    assert "Not placed: the case was acknowledged or closed" in html and "Refused by the provider" in html


def test_the_status_filter_offers_cancelled(staff, db):
    _rows(db)
    resp = staff.login("admin").get("/console/outbox/?status=cancelled")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'value="cancelled" selected' in html
    assert html.count('data-status="cancelled"') == 1 and 'data-status="held"' not in html
