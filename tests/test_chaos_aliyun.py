"""The wiring of `chaos.run --provider aliyun`, in seconds: the chaos Alibaba fake and its pusher against the app
on a real HTTP server. An offer goes out as the driver reads it, the technician's SmsUp is pushed with its answer
lost (so pushed again) and counts once, receipts settle every row, and a wrong-token push gets 403 and no effect;
with `--voice-provider aliyun`, a landline resident's notice call is picked up by the run's people and settled by
its VoiceReport, pushed again after a lost answer."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from chaos.aliyun import PUSH_TOKEN, Pusher, TimedFakeAliyun
from chaos.aliyun_voice import AliyunVoiceSide
from chaos.driver import ACCEPTED_RE, OFFER_RE
from models import Message
from tests import people
from tests.aliyun_helpers import SHOW_NUMBER, overrides
from tests.live import serve
from tests.orders import call_in, only_order

T1 = "+8613800000001"


@pytest.fixture(name="chaos_fake")
def _chaos_fake():
    fake = TimedFakeAliyun().start()
    yield fake
    fake.stop()


@pytest.fixture(name="voice_side")
def _voice_side():
    side = AliyunVoiceSide(None, SimpleNamespace(base_url="http://127.0.0.1:1"), seed=5)
    yield side
    side.stop()


@pytest.fixture
def settings(settings, chaos_fake, voice_side, tmp_path):
    """SMS and calls through the chaos run's Alibaba fakes, with the chaos push token."""
    return settings.with_overrides(**{**overrides(chaos_fake, tmp_path), "aliyun_push_token": PUSH_TOKEN,
                                      "voice_provider": "aliyun", "aliyun_voice_endpoint": voice_side.fake.endpoint,
                                      "aliyun_voice_show_number": SHOW_NUMBER})


def _until_pushed(fake: TimedFakeAliyun, seconds: float = 15.0) -> None:
    deadline = time.time() + seconds
    while fake.pending_pushes and time.time() < deadline:
        time.sleep(0.1)
    assert fake.pending_pushes == 0


def test_a_reply_pushed_again_after_a_lost_answer_counts_once_and_receipts_settle(
        app, tw, db, chaos_fake, run_worker):
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    [offer] = chaos_fake.sms_sent()
    code = only_order(db).code
    assert offer["to"] == T1 and offer["key"].startswith("offer:")
    assert OFFER_RE.search(offer["body"]).group(1) == code
    [sent] = chaos_fake.timeline_copy()
    assert sent["status"] == 201 and sent["key"] == offer["key"] and sent["sid"] == offer["sid"]

    with serve(app) as base:
        pusher = Pusher(chaos_fake, base, seed=1, every=0.1)
        pusher.lose_answers(1)
        chaos_fake.reply(T1, f"1 {code}")
        pusher.start()
        try:
            _until_pushed(chaos_fake)
            run_worker()
            _until_pushed(chaos_fake)  # the receipts of the answer and the resident's notice
        finally:
            pusher.stop()
    assert pusher.lost_answers == 1 and pusher.by_status.get(200, 0) >= 2
    assert only_order(db).status == "accepted"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Message).where(Message.provider_sid == "aliyun:1001")) == 1
    answers = [m for m in chaos_fake.sms_sent() if m["to"] == T1 and ACCEPTED_RE.search(m["body"])]
    assert [m["key"] for m in answers] == ["reply:aliyun:1001"]
    statuses = {m.status for m in db.scalars(select(Message).where(Message.direction == "outbound",
                                                                  Message.channel == "sms"))}
    assert statuses == {"delivered"}


def test_a_push_with_a_wrong_token_is_refused_and_changes_nothing(app, db, chaos_fake):
    people.technician(db, "张师傅", T1, km_north=0.5)
    with serve(app) as base:
        pusher = Pusher(chaos_fake, base, seed=3)
        for _ in range(4):
            pusher.forge("sms-up", {"phone_number": T1[3:], "content": "1 123456", "sequence_id": 900000001})
        pusher.forge("sms-report", {"biz_id": "123^0", "out_id": "offer:1", "success": False})
    assert [p["status"] for p in pusher.forged] == [403] * 5
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Message)) == 0


def test_a_landline_notice_call_is_answered_by_the_run_and_settled_by_its_report_pushed_again(
        app, tw, db, chaos_fake, voice_side, run_worker):
    people.resident(db, phones=(people.RESIDENT_LANDLINE,))
    people.technician(db, "张师傅", T1, km_north=0.5)
    call_in(tw, people.RESIDENT_LANDLINE)
    run_worker()
    code = only_order(db).code
    with serve(app) as base:
        sms = Pusher(chaos_fake, base, seed=1, every=0.1)
        voice_side.pusher.base_url = base
        voice_side.pusher.every = 0.1
        voice_side.pusher.lose_answers(1)
        chaos_fake.reply(T1, f"1 {code}")
        sms.start()
        voice_side.start()
        try:
            _until_pushed(chaos_fake)
            run_worker()   # the answer SMS and the resident's notice call
            deadline = time.time() + 15
            while (not voice_side.fake.placed() or voice_side.pending()) and time.time() < deadline:
                time.sleep(0.1)
        finally:
            sms.stop()
            voice_side.stop()
    [call] = voice_side.calls()
    row = db.scalar(select(Message).where(Message.key == f"notify:accepted:{only_order(db).id}"))
    assert (call["to"], call["key"]) == (people.RESIDENT_LANDLINE, f"#{row.id}")
    [placed] = voice_side.fake.timeline_copy()
    assert placed["status"] == 201 and placed["sid"] == call["sid"] and placed["key"] == call["key"]
    assert voice_side.outcomes == {call["sid"]: ""}   # a notice: listened to
    assert voice_side.pusher.lost_answers == 1 and voice_side.pusher.by_status.get(200, 0) >= 2
    db.expire_all()
    assert (db.get(Message, row.id).status, db.get(Message, row.id).provider_sid) == ("delivered", call["sid"])
