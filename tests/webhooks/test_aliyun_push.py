"""Alibaba's HTTP batch push: SmsUp replies act as any SMS does and are answered by template SMS through the
outbox; SmsReport receipts settle outbox rows; both guarded by the path token and the address allowlist."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from dispatch.outbox import queue_message
from dispatch.texts import render
from models import Message, OfferAttempt
from tests import people
from tests.aliyun_helpers import aliyun_fake, aliyun_settings, code_of, poster, report_url, up_url  # noqa: F401 (fixtures: fake_aliyun, settings)
from tests.orders import call_in, only_order

T1, T2 = "+8613800000001", "+8613800000002"


@pytest.fixture
def offered(tw, db, run_worker, fake_aliyun):
    """A housekeeping order from a resident's call, offered by Alibaba SMS to 张师傅 (T1); 李师傅 (T2) is next."""
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    return only_order(db)


def _rows(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Message))


def test_a_reply_accepts_the_offer_and_the_answer_goes_out_as_a_template_sms(client, db, offered, fake_aliyun,
                                                                            run_worker):
    fake_aliyun.reply(T1, f"1 {offered.code}")
    status, answer = fake_aliyun.push_up(up_url(), poster(client))
    run_worker()
    assert (status, json.loads(answer)) == (200, {"code": 0, "msg": "接收成功"})
    assert only_order(db).status == "accepted"
    answers = [m for m in fake_aliyun.messages if m["template_code"] == code_of("accepted")]
    assert [(m["phone"], m["params"]) for m in answers] == [("13800000001", {"code": offered.code})]


def test_a_batch_pushed_again_has_one_effect_and_one_answer(client, db, offered, fake_aliyun, run_worker):
    fake_aliyun.reply(T1, f"1 {offered.code}")
    batch = poster(client)
    fake_aliyun.push_up(up_url(), lambda url, body: (batch(url, body), batch(url, body))[1])
    run_worker()
    assert len([m for m in fake_aliyun.messages if m["template_code"] == code_of("accepted")]) == 1
    assert db.scalar(select(func.count()).select_from(Message).where(Message.direction == "inbound")) == 1


def test_a_reply_from_an_unknown_number_is_answered_by_the_outbox_too(client, db, settings, fake_aliyun,
                                                                     run_worker):
    fake_aliyun.reply("+8613912345678", "1")
    fake_aliyun.push_up(up_url(), poster(client))
    run_worker()
    [answer] = fake_aliyun.messages
    assert (answer["phone"], answer["template_code"]) == ("13912345678", code_of("unknown_sender"))


def test_a_push_with_the_wrong_token_is_refused_and_changes_nothing(client, db, offered, fake_aliyun):
    before = _rows(db)
    fake_aliyun.reply(T1, f"1 {offered.code}")
    status, _ = fake_aliyun.push_up(up_url("guessed-token"), poster(client))
    assert status == 403 and _rows(db) == before and only_order(db).status == "offered"
    assert fake_aliyun.pending_pushes == 2  # the reply and the offer's receipt wait for Alibaba's next try


def test_with_no_push_token_configured_both_endpoints_are_closed(app, client, db, settings):
    app.extensions["hotline"].settings = settings.with_overrides(aliyun_push_token="")
    assert client.post("/aliyun//sms-up", json=[]).status_code in (403, 404)
    assert client.post(up_url(""), json=[]).status_code in (403, 404)


def test_a_push_from_outside_the_allowlist_is_refused(app, client, db, settings):
    app.extensions["hotline"].settings = settings.with_overrides(aliyun_push_allow="100.100.0.0/16")
    assert client.post(report_url(), json=[]).status_code == 403
    inside = client.post(report_url(), json=[], environ_base={"REMOTE_ADDR": "100.100.3.4"})
    assert inside.status_code == 200 and inside.get_json()["code"] == 0


@pytest.mark.parametrize("body", [b"not json", b'{"phone_number": "1"}', b'[{"content": "1"}]', b"[1, 2]"])
def test_a_malformed_batch_is_a_400_and_changes_nothing(client, db, settings, body):
    before = _rows(db)
    resp = client.post(up_url(), data=body, content_type="application/json")
    assert resp.status_code == 400 and _rows(db) == before


def test_a_receipt_marks_the_row_delivered(client, db, settings, fake_aliyun, run_worker):
    row = queue_message(db, "k:r1", T1, render("zh-CN", "taken", code="123456"))
    db.commit()
    run_worker()
    status, answer = fake_aliyun.push_reports(report_url(), poster(client))
    db.expire_all()
    assert status == 200 and db.get(Message, row.id).status == "delivered" and fake_aliyun.pending_pushes == 0


def test_a_failed_receipt_marks_the_row_failed_with_the_carriers_code(client, db, settings, fake_aliyun,
                                                                      run_worker):
    row = queue_message(db, "k:r2", T1, render("zh-CN", "taken", code="123456"))
    db.commit()
    run_worker()
    fake_aliyun.fail_delivery(fake_aliyun.messages[0]["biz_id"], "MOBILE_NOT_ON_SERVICE")
    fake_aliyun.push_reports(report_url(), poster(client))
    db.expire_all()
    settled = db.get(Message, row.id)
    assert settled.status == "failed" and "MOBILE_NOT_ON_SERVICE" in settled.error


def test_an_offer_that_was_not_delivered_moves_on_to_the_next_technician(client, db, offered, fake_aliyun,
                                                                        run_worker):
    fake_aliyun.fail_delivery(fake_aliyun.messages[0]["biz_id"])
    fake_aliyun.push_reports(report_url(), poster(client))
    run_worker()
    assert [m["phone"] for m in fake_aliyun.messages] == ["13800000001", "13800000002"]
    attempts = db.scalars(select(OfferAttempt).order_by(OfferAttempt.id)).all()
    assert [a.status for a in attempts] == ["failed", "pending"]


def test_a_receipt_for_a_row_still_being_sent_is_asked_for_again(client, db, settings, fake_aliyun, run_worker):
    row = queue_message(db, "k:r3", T1, render("zh-CN", "taken", code="123456"))
    db.commit()
    run_worker()
    db.get(Message, row.id).status = "sending"  # as if the worker had not stored the BizId yet
    db.commit()
    status, answer = fake_aliyun.push_reports(report_url(), poster(client))
    assert status == 200 and json.loads(answer)["code"] == 1 and fake_aliyun.pending_pushes == 1


def test_behind_a_trusted_proxy_the_allowlist_reads_the_forwarded_address(settings):
    from hotline.factory import create_app

    proxied = create_app(settings.with_overrides(aliyun_push_allow="100.100.0.0/16", trusted_proxy_count=1))
    try:
        client = proxied.test_client()
        forwarded = client.post(report_url(), json=[], headers={"X-Forwarded-For": "100.100.3.4"})
        outside = client.post(report_url(), json=[], headers={"X-Forwarded-For": "203.0.113.9"})
        assert (forwarded.status_code, outside.status_code) == (200, 403)
    finally:
        proxied.extensions["hotline"].dispose()


def test_without_a_trusted_proxy_a_forwarded_address_is_not_believed(app, client, settings):
    app.extensions["hotline"].settings = settings.with_overrides(aliyun_push_allow="100.100.0.0/16")
    resp = client.post(report_url(), json=[], headers={"X-Forwarded-For": "100.100.3.4"})
    assert resp.status_code == 403
