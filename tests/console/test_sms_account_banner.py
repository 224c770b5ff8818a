"""The message log says on top when the SMS account cannot send (Alibaba: out of credit), until an SMS goes out."""
from __future__ import annotations

from datetime import timedelta

import pytest

from models import Message, utcnow

TECH = "+8613800001234"
EMPTY = "aliyun isv.AMOUNT_NOT_ENOUGH: 账户余额不足"


def _row(db, key: str, status: str, error: str | None = None, sent_minutes_ago: int | None = None) -> None:
    now = utcnow()
    db.add(Message(key=key, channel="sms", to_phone=TECH, status=status, body="单123456已完成", error=error,
                   created_at=now - timedelta(minutes=10),
                   sent_at=None if sent_minutes_ago is None else now - timedelta(minutes=sent_minutes_ago)))
    db.commit()


def _banner(client) -> bool:
    resp = client.get("/console/outbox/")
    assert resp.status_code == 200
    return 'id="sms-account-empty"' in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["dispatcher", "duty_officer", "admin"])
def test_an_sms_refused_for_an_empty_account_is_said_on_top_of_the_message_log(staff, db, role):
    _row(db, "k:empty", "failed", EMPTY)
    assert _banner(staff.login(role))


def test_the_warning_is_in_chinese_first(staff, db):
    _row(db, "k:empty", "failed", EMPTY)
    html = staff.login("dispatcher").get("/console/outbox/").get_data(as_text=True)
    assert "短信账户无法发送" in html


def test_the_warning_goes_once_an_sms_went_out_again(staff, db):
    _row(db, "k:empty", "failed", EMPTY)
    _row(db, "k:later", "sent", sent_minutes_ago=1)
    assert not _banner(staff.login("dispatcher"))


def test_other_failures_say_nothing_on_top(staff, db):
    _row(db, "k:bad", "failed", "aliyun isv.MOBILE_NUMBER_ILLEGAL: 号码不合法")
    assert not _banner(staff.login("dispatcher"))


def test_the_message_log_stays_closed_to_anonymous_visitors_while_the_account_is_empty(client, db):
    _row(db, "k:empty", "failed", EMPTY)
    resp = client.get("/console/outbox/")
    assert resp.status_code in (302, 401, 403) and "sms-account-empty" not in resp.get_data(as_text=True)
