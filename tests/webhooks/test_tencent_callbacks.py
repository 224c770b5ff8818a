"""Tencent's callbacks: a reply (one JSON object) acts as any SMS does and is answered by a template SMS through the
outbox; status reports (a JSON array) settle outbox rows; both guarded by the path token and the address
allowlist, a malformed call changes nothing, and a call made again has one effect."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from dispatch.outbox import queue_message
from dispatch.texts import render
from models import Message, OfferAttempt
from tests import people
from tests.orders import call_in, only_order
from tests.tencent_helpers import id_of, poster, reply_url, status_url, tencent_fake, tencent_settings  # noqa: F401 (fixtures: fake_tencent, settings)

T1, T2 = "+8613800000001", "+8613800000002"


@pytest.fixture
def offered(tw, db, run_worker, fake_tencent):
    """A housekeeping order from a resident's call, offered by Tencent SMS to 张师傅 (T1); 李师傅 (T2) is next."""
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    return only_order(db)


def _rows(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Message))


def _answers(fake, kind: str) -> list[tuple[str, list]]:
    return [(m["phone"], m["params"]) for m in fake.messages if m["template_id"] == id_of(kind)]


def test_a_reply_accepts_the_offer_and_the_answer_goes_out_as_a_template_sms(client, db, offered, fake_tencent,
                                                                            run_worker):
    fake_tencent.reply(T1, f"1 {offered.code}")
    status, answer = fake_tencent.push_replies(reply_url(), poster(client))
    run_worker()
    assert (status, json.loads(answer)) == (200, {"result": 0, "errmsg": "OK"})
    assert only_order(db).status == "accepted"
    assert _answers(fake_tencent, "accepted") == [(T1, [offered.code])]


def test_a_reply_made_again_has_one_effect_and_one_answer(client, db, offered, fake_tencent, run_worker):
    fake_tencent.reply(T1, f"1 {offered.code}")
    post = poster(client)
    fake_tencent.push_replies(reply_url(), lambda url, body: (post(url, body), post(url, body))[1])
    run_worker()
    assert len(_answers(fake_tencent, "accepted")) == 1
    assert db.scalar(select(func.count()).select_from(Message).where(Message.direction == "inbound")) == 1


def test_a_reply_from_an_unknown_number_is_answered_by_the_outbox_too(client, db, settings, fake_tencent,
                                                                     run_worker):
    fake_tencent.reply("+8613912345678", "1")
    fake_tencent.push_replies(reply_url(), poster(client))
    run_worker()
    [answer] = fake_tencent.messages
    assert (answer["phone"], answer["template_id"]) == ("+8613912345678", id_of("unknown_sender"))


def test_a_callback_with_the_wrong_token_is_refused_and_changes_nothing(client, db, offered, fake_tencent):
    before = _rows(db)
    fake_tencent.reply(T1, f"1 {offered.code}")
    status, _ = fake_tencent.push_replies(reply_url("guessed-token"), poster(client))
    assert status == 403 and _rows(db) == before and only_order(db).status == "offered"
    status, _ = fake_tencent.push_reports(status_url("guessed-token"), poster(client))
    assert status == 403 and fake_tencent.pending_callbacks == 2  # the reply and the offer's report wait


def test_with_no_callback_token_configured_both_endpoints_are_closed(app, client, db, settings):
    app.extensions["hotline"].settings = settings.with_overrides(tencent_callback_token="")
    assert client.post("/tencent//sms-reply", json={}).status_code in (403, 404)
    assert client.post(status_url(""), json=[]).status_code in (403, 404)


def test_a_callback_from_outside_the_allowlist_is_refused(app, client, db, settings):
    app.extensions["hotline"].settings = settings.with_overrides(tencent_callback_allow="10.20.0.0/16")
    assert client.post(status_url(), json=[]).status_code == 403
    inside = client.post(status_url(), json=[], environ_base={"REMOTE_ADDR": "10.20.3.4"})
    assert inside.status_code == 200 and inside.get_json()["result"] == 0


@pytest.mark.parametrize("body", [b"not json", b"[]", b'[{"mobile": "13800000001", "text": "1", "time": 1}]',
                                  b'{"mobile": "13800000001", "text": "1"}', b'{"mobile": "", "text": "1", "time": 1}',
                                  b'{"mobile": "13800000001", "text": 1, "time": 1}'])
def test_a_malformed_reply_is_a_400_and_changes_nothing(client, db, settings, body):
    before = _rows(db)
    resp = client.post(reply_url(), data=body, content_type="application/json")
    assert resp.status_code == 400 and _rows(db) == before


GOOD = '{"sid": "SERIAL", "report_status": "FAIL", "errmsg": "MK:0001"}'


@pytest.mark.parametrize("body", ["not json", GOOD, f"[{GOOD}, 1]",
                                  f'[{GOOD}, {{"sid": "x", "report_status": "MAYBE"}}]',
                                  f'[{GOOD}, {{"report_status": "FAIL"}}]'])
def test_a_malformed_status_report_is_a_400_and_changes_nothing(client, db, settings, fake_tencent, run_worker,
                                                               body):
    row = queue_message(db, "k:m", T1, render("zh-CN", "taken", code="123456"))
    db.commit()
    run_worker()
    resp = client.post(status_url(), data=body.replace("SERIAL", fake_tencent.messages[0]["serial"]),
                       content_type="application/json")
    db.expire_all()
    assert resp.status_code == 400 and db.get(Message, row.id).status == "sent"


def test_a_report_marks_the_row_delivered(client, db, settings, fake_tencent, run_worker):
    row = queue_message(db, "k:r1", T1, render("zh-CN", "taken", code="123456"))
    db.commit()
    run_worker()
    status, answer = fake_tencent.push_reports(status_url(), poster(client))
    db.expire_all()
    assert status == 200 and db.get(Message, row.id).status == "delivered" and fake_tencent.pending_callbacks == 0


def test_a_report_made_again_changes_nothing_more(client, db, settings, fake_tencent, run_worker):
    row = queue_message(db, "k:r1b", T1, render("zh-CN", "taken", code="123456"))
    db.commit()
    run_worker()
    fake_tencent.fail_delivery(fake_tencent.messages[0]["serial"], "MK:0001")
    post = poster(client)
    fake_tencent.push_reports(status_url(), lambda url, body: (post(url, body), post(url, body))[1])
    db.expire_all()
    settled = db.get(Message, row.id)
    assert (settled.status, settled.error) == ("failed", "receipt: MK:0001 用户短信接收失败")


def test_an_offer_that_was_not_delivered_moves_on_to_the_next_technician(client, db, offered, fake_tencent,
                                                                        run_worker):
    fake_tencent.fail_delivery(fake_tencent.messages[0]["serial"])
    fake_tencent.push_reports(status_url(), poster(client))
    run_worker()
    assert [m["phone"] for m in fake_tencent.messages] == [T1, T2]
    attempts = db.scalars(select(OfferAttempt).order_by(OfferAttempt.id)).all()
    assert [a.status for a in attempts] == ["failed", "pending"]


def test_a_report_for_a_row_still_being_sent_is_asked_for_again(client, db, settings, fake_tencent, run_worker):
    row = queue_message(db, "k:r3", T1, render("zh-CN", "taken", code="123456"))
    db.commit()
    run_worker()
    db.get(Message, row.id).status = "sending"  # as if the worker had not stored the SerialNo yet
    db.commit()
    status, answer = fake_tencent.push_reports(status_url(), poster(client))
    assert status == 200 and json.loads(answer)["result"] == 1 and fake_tencent.pending_callbacks == 1
