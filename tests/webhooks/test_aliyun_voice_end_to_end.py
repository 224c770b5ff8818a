"""Both lines with SMS and calls on Alibaba Cloud (the IVR on Twilio's signed webhooks): a landline resident's notice
call, a child-line case nobody answered acknowledged by a supervisor's key 1 on Alibaba's alert call, and the
arrival call's keys 1 and 2 and its silence, each brought back by Alibaba's VoiceReport push."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Case, Message
from tests import people
from tests.aliyun_helpers import aliyun_fake, poster, tts_code_of, up_url, voice_fake, voice_overrides, voice_report_url  # noqa: F401 (fixtures: fake_aliyun, fake_voice)
from tests.orders import call_in, only_order
from tests.visits import OFFICER, TECH, events, retry_due, visit
from tests.webhooks.child_calls import SUPERVISOR, staff, voicemail_call


@pytest.fixture
def settings(settings, fake_voice, fake_aliyun, tmp_path):
    """SMS and calls on Alibaba (the fakes); the supervisors are called from the first alert round on."""
    return settings.with_overrides(**voice_overrides(fake_voice, fake_aliyun, tmp_path), alert_max_repeats=0,
                                   alert_repeat_seconds=3)


def _calls(fake, kind: str) -> list[dict]:
    return [c for c in fake.calls if c["tts_code"] == tts_code_of(kind)]


def _reply(client, fake_aliyun, run_worker, phone: str, text: str) -> None:
    """The technician's SMS reply, by Alibaba's SmsUp push."""
    fake_aliyun.reply(phone, text)
    assert fake_aliyun.push_up(up_url(), poster(client))[0] == 200
    run_worker()


def _push(client, fake_voice, run_worker) -> None:
    """Alibaba pushes the VoiceReports of the calls that ended; the worker does what they left."""
    status, answer = fake_voice.push_voice_reports(voice_report_url(), poster(client))
    assert (status, fake_voice.pending_pushes) == (200, 0), answer
    run_worker()


def _accepted(tw, client, db, fake_aliyun, run_worker, phone: str):
    people.resident(db, phones=(phone,))
    people.technician(db, "张师傅", TECH)
    call_in(tw, phone)
    run_worker()
    _reply(client, fake_aliyun, run_worker, TECH, f"1 {only_order(db).code}")
    return only_order(db)


def test_a_landline_residents_notice_is_an_alibaba_tts_call_settled_by_its_report(
        tw, client, db, fake_aliyun, fake_voice, run_worker):
    order = _accepted(tw, client, db, fake_aliyun, run_worker, people.RESIDENT_LANDLINE)
    [call] = _calls(fake_voice, "notify_resident_call")
    assert (call["action"], call["number"]) == ("SingleCallByTts", "04768223344")
    assert call["params"]["tech"] == "张师傅" and call["params"]["digits"] == " ".join(order.code)
    row = db.scalar(select(Message).where(Message.key == f"notify:accepted:{order.id}"))
    assert call["out_id"] == str(row.id)
    fake_voice.answer(call)
    _push(client, fake_voice, run_worker)
    db.expire_all()
    assert (db.get(Message, row.id).status, db.get(Message, row.id).provider_sid) == ("delivered", call["call_id"])


def test_a_child_case_nobody_answered_is_acknowledged_by_key_1_on_alibabas_alert_call(
        tw, client, db, fake_voice, run_worker):
    chain = staff(db)
    voicemail_call(tw)
    run_worker()
    [call] = _calls(fake_voice, "case_call")
    case = db.scalar(select(Case))
    assert call["number"] == SUPERVISOR.removeprefix("+86") and call["params"]["digits"] == " ".join(case.code)
    assert call["menu"] == {"1": tts_code_of("case_call_ok")}
    fake_voice.answer(call, keys="1")
    _push(client, fake_voice, run_worker)
    db.expire_all()
    case = db.scalar(select(Case))
    assert case.status == "acknowledged" and case.acknowledged_by_id == chain["sup"].id
    assert case.events[-1].kind == "acknowledged" and "voice" in case.events[-1].detail


def test_a_supervisor_who_lets_the_alert_call_ring_out_acknowledges_nothing(tw, client, db, fake_voice, run_worker):
    staff(db)
    voicemail_call(tw)
    run_worker()
    [call] = _calls(fake_voice, "case_call")
    fake_voice.ring_out(call)
    _push(client, fake_voice, run_worker)
    db.expire_all()
    assert db.scalar(select(Case)).status != "acknowledged"
    assert db.scalar(select(Message).where(Message.provider_sid == call["call_id"])).status == "failed"


def _arrival_call(tw, client, db, fake_aliyun, fake_voice, run_worker) -> dict:
    order = _accepted(tw, client, db, fake_aliyun, run_worker, people.RESIDENT_MOBILE)
    _reply(client, fake_aliyun, run_worker, TECH, "到达")
    run_worker()
    [call] = _calls(fake_voice, "arrival_call")
    assert call["out_id"] == str(db.scalar(select(Message.id).where(Message.key == f"arrival:{visit(db).id}:1")))
    assert order.code
    return call


def test_key_1_on_alibabas_arrival_call_verifies_the_visit(tw, client, db, fake_aliyun, fake_voice, run_worker):
    call = _arrival_call(tw, client, db, fake_aliyun, fake_voice, run_worker)
    fake_voice.answer(call, keys="1")
    _push(client, fake_voice, run_worker)
    assert visit(db).verification == "verified"
    assert events(db, only_order(db), "visit_verified") == [("visit_verified", "resident pressed 1")]


def test_key_2_on_alibabas_arrival_call_disputes_it_and_texts_the_officer(
        tw, client, db, fake_aliyun, fake_voice, run_worker):
    people.officer(db, "李干事", OFFICER)
    call = _arrival_call(tw, client, db, fake_aliyun, fake_voice, run_worker)
    fake_voice.answer(call, keys="2")
    _push(client, fake_voice, run_worker)
    assert visit(db).verification == "disputed" and only_order(db).needs_follow_up is True
    assert [m["phone"] for m in fake_aliyun.messages if m["out_id"].startswith("arrival-disputed:")] == [
        OFFICER.removeprefix("+86")]


@pytest.mark.parametrize("ended", ["answered-silent", "rang-out"])
def test_silence_on_alibabas_arrival_call_is_tried_a_second_time(tw, app, client, db, fake_aliyun, fake_voice,
                                                                 run_worker, ended):
    call = _arrival_call(tw, client, db, fake_aliyun, fake_voice, run_worker)
    fake_voice.answer(call) if ended == "answered-silent" else fake_voice.ring_out(call)
    _push(client, fake_voice, run_worker)
    assert (visit(db).verification, visit(db).verify_attempts) == ("pending", 1)
    start = fake_voice.clock()
    fake_voice.clock = lambda: start + 5 * 60  # ARRIVAL_CALL_RETRY_MINUTES later: Alibaba's 1/min limit passed
    retry_due(app, db)
    run_worker()
    assert len(_calls(fake_voice, "arrival_call")) == 2 and visit(db).verify_attempts == 2
