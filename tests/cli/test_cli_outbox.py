"""`flask outbox`: the newest outbound messages, every number masked (bodies too) unless --full is given."""
from __future__ import annotations

import pytest

from models import Message

OFFICER = "+8613800005678"
ALERT = "未保热线个案123456有留言,请回电13904761234。"


@pytest.fixture
def alert(db):
    db.add(Message(key="case-alert:1:1:1", channel="sms", to_phone=OFFICER, status="local", body=ALERT))
    db.commit()


def test_outbox_masks_a_call_back_number_inside_a_body(runner, alert):
    output = runner.invoke(args=["outbox"]).output
    assert "13904761234" not in output and "请回电+86****1234" in output


def test_outbox_masks_the_recipient(runner, alert):
    output = runner.invoke(args=["outbox"]).output
    assert OFFICER not in output and "+86****5678" in output


def test_outbox_full_shows_the_body_as_sent(runner, alert):
    assert ALERT in runner.invoke(args=["outbox", "--full"]).output
