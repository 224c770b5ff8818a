"""Alibaba's VoiceReport push: each ended call settles its outbox row (found by OutId = the row's id, for the row's
own number); guarded by the path token and the address allowlist; a malformed batch changes nothing; a replayed
report changes nothing; `{"code": 0}` only once every report is committed."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, update

from dispatch.outbox import deliver, queue_message
from dispatch.providers import build_provider
from dispatch.texts import render
from dispatch.voice_messages import spoken_notification
from models import Message, Order, Visit, utcnow
from tests import people
from tests.aliyun_helpers import aliyun_fake, poster, voice_fake, voice_report_url, voice_settings  # noqa: F401 (fixtures: fake_aliyun, fake_voice, settings)

LANDLINE = people.RESIDENT_LANDLINE


def _placed(db, settings, fake_voice, key: str = "notify:accepted:1", body: str | None = None) -> tuple[Message, dict]:
    body = body or spoken_notification("zh-CN", render("zh-CN", "police_call", digits="1 0 0"))
    row = queue_message(db, key, LANDLINE, body, channel="call")
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender)
    return row, fake_voice.calls[-1]


def _row(db, row: Message) -> Message:
    db.expire_all()
    return db.get(Message, row.id)


def _item(call: dict, **changes) -> dict:
    return {"call_id": call["call_id"], "out_id": call["out_id"], "callee": call["number"], "caller": "04768000001",
            "status_code": "200000", "status_msg": "用户听完语音", "duration": "12", "hangup_direction": "用户",
            "dtmf": "", "start_time": "2026-12-02 10:00:00", "end_time": "2026-12-02 10:00:12", **changes}


def _post(client, items, token: str | None = None, **environ):
    url = voice_report_url(token) if token else voice_report_url()
    body = items if isinstance(items, bytes) else json.dumps(items, ensure_ascii=False).encode()
    return client.post(url, data=body, content_type="application/json", environ_base=environ)


def test_an_answered_call_is_delivered_and_alibaba_is_told_code_0(client, db, settings, fake_voice):
    row, call = _placed(db, settings, fake_voice)
    fake_voice.answer(call)
    status, answer = fake_voice.push_voice_reports(voice_report_url(), poster(client))
    assert (status, json.loads(answer)) == (200, {"code": 0, "msg": "接收成功"})
    assert (_row(db, row).status, _row(db, row).error) == ("delivered", None)


@pytest.mark.parametrize("code", ["200002", "200003", "200010"])
def test_a_call_nobody_answered_fails_with_alibabas_status(client, db, settings, fake_voice, code):
    row, call = _placed(db, settings, fake_voice)
    fake_voice.ring_out(call, status_code=code)
    fake_voice.push_voice_reports(voice_report_url(), poster(client))
    assert _row(db, row).status == "failed" and _row(db, row).error.startswith(f"report: {code}")


def test_a_wrong_token_is_403_and_changes_nothing(client, db, settings, fake_voice):
    row, call = _placed(db, settings, fake_voice)
    fake_voice.answer(call)
    status, _ = fake_voice.push_voice_reports(voice_report_url("not-the-token"), poster(client))
    assert status == 403 and _row(db, row).status == "sent" and fake_voice.pending_pushes == 1


def test_an_address_outside_the_allowlist_is_403(app, client, db, settings, fake_voice):
    row, call = _placed(db, settings, fake_voice)
    app.extensions["hotline"].settings = settings.with_overrides(aliyun_push_allow="100.100.0.0/16")
    resp = _post(client, [_item(call)], REMOTE_ADDR="203.0.113.9")
    assert resp.status_code == 403 and _row(db, row).status == "sent"


@pytest.mark.parametrize("body", [b"not json", b'{"call_id": "x"}', b"[1]", b'[{"call_id": "x", "callee": "1"}]',
                                  b'[{"call_id": 5, "out_id": "1", "callee": "1", "status_code": "200000"}]'],
                         ids=["text", "object", "number", "missing-fields", "call-id-a-number"])
def test_a_malformed_batch_is_a_400_and_changes_nothing(client, db, settings, fake_voice, body):
    row, _ = _placed(db, settings, fake_voice)
    assert _post(client, body).status_code == 400 and _row(db, row).status == "sent"


def test_a_batch_with_one_malformed_item_changes_nothing_of_the_good_ones(client, db, settings, fake_voice):
    row, call = _placed(db, settings, fake_voice)
    assert _post(client, [_item(call), {"call_id": "y"}]).status_code == 400 and _row(db, row).status == "sent"


def test_a_report_for_no_call_of_ours_is_acknowledged_and_changes_nothing(client, db, settings, fake_voice):
    row, call = _placed(db, settings, fake_voice)
    before = db.scalar(select(func.count()).select_from(Message))
    for out_id in ("999999", "ALICOM_SMART_SAAS^1^2", ""):
        assert _post(client, [_item(call, out_id=out_id, call_id=f"other-{out_id}")]).get_json()["code"] == 0
    assert _row(db, row).status == "sent" and db.scalar(select(func.count()).select_from(Message)) == before


def test_a_report_naming_another_number_than_the_rows_changes_nothing(client, db, settings, fake_voice):
    row, call = _placed(db, settings, fake_voice)
    assert _post(client, [_item(call, callee="13900000000")]).get_json()["code"] == 0
    assert _row(db, row).status == "sent"


def test_a_replayed_report_changes_nothing(client, db, settings, fake_voice):
    row, call = _placed(db, settings, fake_voice)
    assert _post(client, [_item(call)]).get_json()["code"] == 0
    db.execute(update(Message).where(Message.id == row.id).values(error="kept"))  # a mark the replay must not touch
    db.commit()
    assert _post(client, [_item(call, status_code="200003")]).get_json()["code"] == 0
    assert (_row(db, row).status, _row(db, row).error) == ("delivered", "kept")


def test_a_key_counts_once_when_alibaba_pushes_the_report_twice(client, db, settings, fake_voice, run_worker):
    people.resident(db, phones=(LANDLINE,))
    order = Order(code="100200", category="housekeeping", caller_phone=LANDLINE, status="arrived")
    db.add(order)
    db.flush()
    visit_row = Visit(order_id=order.id, arrived_at=utcnow(), verify_attempts=1, verification="pending")
    db.add(visit_row)
    db.commit()
    from dispatch.arrival_calls import call_script

    row, call = _placed(db, settings, fake_voice, f"arrival:{visit_row.id}:1", call_script(settings, visit_row.id, 1))
    fake_voice.answer(call, keys="2")
    twice = poster(client)
    fake_voice.push_voice_reports(voice_report_url(), lambda url, body: (twice(url, body), twice(url, body))[1])
    db.expire_all()
    assert db.get(Visit, visit_row.id).verification == "disputed" and _row(db, row).status == "delivered"
    disputed = [e for e in db.get(Order, order.id).events if e.kind == "visit_disputed"]
    assert len(disputed) == 1


def test_a_report_for_a_call_being_placed_is_asked_again_later(client, db, settings, fake_voice):
    row, call = _placed(db, settings, fake_voice)
    db.execute(update(Message).where(Message.id == row.id).values(status="sending"))
    db.commit()
    fake_voice.answer(call)
    status, answer = fake_voice.push_voice_reports(voice_report_url(), poster(client))
    assert status == 200 and json.loads(answer)["code"] != 0 and fake_voice.pending_pushes == 1
    db.execute(update(Message).where(Message.id == row.id).values(status="sent"))
    db.commit()
    fake_voice.push_voice_reports(voice_report_url(), poster(client))
    assert _row(db, row).status == "delivered" and fake_voice.pending_pushes == 0


def test_a_call_whose_request_timed_out_is_settled_by_its_report(client, db, settings, fake_voice):
    fake_voice.hang_next(2)  # placed, answered after the 1 s timeout: the row fails as uncertain
    row, call = _placed(db, settings, fake_voice)
    assert _row(db, row).status == "failed"
    fake_voice.answer(call)
    fake_voice.push_voice_reports(voice_report_url(), poster(client))
    assert (_row(db, row).status, _row(db, row).provider_sid) == ("delivered", call["call_id"])
