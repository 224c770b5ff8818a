"""SMS sent through Alibaba with no receipt after ALIYUN_RECEIPT_MINUTES are looked up with QuerySendDetails and
settled as a pushed receipt would settle them; checked against the fake Alibaba endpoint."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dispatch import deferred
from dispatch.outbox import deliver, queue_message
from dispatch.providers import build_provider
from dispatch.receipt_check import LOOKUP_HOURS, check_receipt, overdue_receipts
from dispatch.texts import render
from hotline.config import load_settings
from models import Message, OfferAttempt, utcnow
from tests import people
from tests.aliyun_helpers import aliyun_fake, aliyun_settings  # noqa: F401 (fixtures: fake_aliyun, settings)
from tests.dispatch.dispatch_helpers import T1, T2
from tests.orders import call_in, only_order

LATER = timedelta(minutes=11)  # past the default ALIYUN_RECEIPT_MINUTES (10)


def _sent(db, settings, key: str = "sla-reminder:42", to: str = T1) -> Message:
    row = queue_message(db, key, to, render("zh-CN", "sla_reminder", code="123456", minutes=15))
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender)
    db.expire_all()
    return db.get(Message, row.id)


def _check(db, settings, row: Message, later: timedelta = LATER) -> list:
    follow = check_receipt(db, row.id, build_provider(settings), settings, utcnow() + later)
    db.commit()
    db.expire_all()
    return follow


def test_the_receipt_wait_is_a_setting_of_whole_minutes(tmp_path):
    assert load_settings({"INSTANCE_PATH": str(tmp_path)}).aliyun_receipt_minutes == 10
    assert load_settings({"INSTANCE_PATH": str(tmp_path), "ALIYUN_RECEIPT_MINUTES": "3"}).aliyun_receipt_minutes == 3
    with pytest.raises(ValueError, match="ALIYUN_RECEIPT_MINUTES"):
        load_settings({"INSTANCE_PATH": str(tmp_path), "ALIYUN_RECEIPT_MINUTES": "0"})


def test_a_sent_sms_with_no_receipt_after_the_wait_is_found_by_the_reconciler(app, db, settings):
    row = _sent(db, settings)
    now = utcnow() + LATER
    assert overdue_receipts(db, now, now, settings) == [deferred.receipt_check(row.id)]


def test_a_sent_sms_is_not_looked_up_before_the_wait_is_over(app, db, settings):
    _sent(db, settings)
    now = utcnow() + timedelta(minutes=9)
    assert overdue_receipts(db, now, now, settings) == []


def test_an_sms_with_its_receipt_is_not_looked_up(app, db, settings):
    row = _sent(db, settings)
    db.execute(update(Message).where(Message.id == row.id).values(status="delivered"))
    db.commit()
    now = utcnow() + LATER
    assert overdue_receipts(db, now, now, settings) == []


def test_an_sms_sent_through_twilio_is_not_looked_up(app, db, settings):
    db.add(Message(key="twilio:1", direction="outbound", channel="sms", to_phone=T1, body="x", status="sent",
                   provider_sid="SM" + "a" * 32, sent_at=utcnow()))
    db.commit()
    now = utcnow() + LATER
    assert overdue_receipts(db, now, now, settings) == []


def test_an_sms_sent_longer_ago_than_the_look_up_hours_is_left_as_sent(app, db, settings):
    _sent(db, settings)
    now = utcnow() + timedelta(hours=LOOKUP_HOURS, minutes=1)
    assert overdue_receipts(db, now, now, settings) == []


def test_the_look_up_marks_a_delivered_sms_delivered(app, db, settings, fake_aliyun):
    row = _sent(db, settings)
    assert _check(db, settings, row) == []
    assert db.get(Message, row.id).status == "delivered"
    assert [r["action"] for r in fake_aliyun.requests] == ["SendSms", "QuerySendDetails"]


def test_the_look_up_marks_an_undelivered_sms_failed_with_the_carriers_code(app, db, settings, fake_aliyun):
    row = _sent(db, settings)
    fake_aliyun.fail_delivery(row.provider_sid, "MOBILE_NOT_ON_SERVICE")
    _check(db, settings, row)
    row = db.get(Message, row.id)
    assert (row.status, row.error) == ("failed", "receipt: MOBILE_NOT_ON_SERVICE")


def test_an_sms_the_carrier_has_not_answered_for_stays_sent_and_is_looked_up_again_later(app, db, settings,
                                                                                         fake_aliyun):
    row = _sent(db, settings)
    fake_aliyun.await_carrier(row.provider_sid)
    [again] = _check(db, settings, row)
    assert db.get(Message, row.id).status == "sent"
    assert again.kind == deferred.RECEIPT_CHECK and again.args == (row.id,)
    assert timedelta(minutes=20) < again.at - utcnow() <= timedelta(minutes=21)


def test_a_look_up_alibaba_refuses_changes_nothing_and_is_tried_again_later(app, db, settings, fake_aliyun):
    row = _sent(db, settings)
    wrong = settings.with_overrides(aliyun_access_key_secret="not-the-secret")
    follow = check_receipt(db, row.id, build_provider(wrong), settings, utcnow() + LATER)
    db.commit()
    db.expire_all()
    assert db.get(Message, row.id).status == "sent" and [f.kind for f in follow] == [deferred.RECEIPT_CHECK]


def test_a_row_settled_meanwhile_is_not_looked_up(app, db, settings, fake_aliyun):
    row = _sent(db, settings)
    db.execute(update(Message).where(Message.id == row.id).values(status="failed"))
    db.commit()
    assert _check(db, settings, row) == []
    assert [r["action"] for r in fake_aliyun.requests] == ["SendSms"]


def test_an_offer_found_undelivered_moves_the_order_to_the_next_technician(tw, db, settings, fake_aliyun,
                                                                           run_worker):
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    [first] = fake_aliyun.messages
    fake_aliyun.fail_delivery(first["biz_id"])
    run_worker(aliyun_receipt_minutes=0)  # the reconciler's pass finds it at once, the look-up settles it
    assert [m["phone"] for m in fake_aliyun.messages] == ["13800000001", "13800000002"]
    order = only_order(db)
    assert sorted(a.status for a in db.scalars(select(OfferAttempt).where(OfferAttempt.order_id == order.id))) \
        == ["failed", "pending"]
