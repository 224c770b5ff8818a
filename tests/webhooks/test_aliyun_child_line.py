"""The child-protection line with SMS on Alibaba Cloud (calls and the IVR on Twilio): a call nobody on the rota
answers ends in a message, every officer of the chain is alerted by an approved template SMS round after round,
an officer's `收到 CODE` arriving as an SmsUp push acknowledges the case and stops the rounds, and Alibaba's
receipts settle every SMS. ALERT_REPEAT_SECONDS is short here (case_alert_helpers.REPEAT_SECONDS)."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from models import Message, utcnow
from tests.aliyun_helpers import aliyun_fake, overrides, poster, report_url  # noqa: F401 (fixture: fake_aliyun)
from tests.dispatch.case_alert_helpers import CHAIN, REPEAT_SECONDS, chain  # noqa: F401 (fixture: chain)
from tests.webhooks.aliyun_child import digits, reply, sent
from tests.webhooks.child_calls import CALLER, TIER2, case_of, voicemail_call

ALIYUN_CHAIN = sorted(digits(phone) for phone in CHAIN)


@pytest.fixture
def settings(settings, fake_aliyun, tmp_path):
    """SMS through the Alibaba fake, calls through the Twilio fake, alert rounds a few seconds apart."""
    return settings.with_overrides(**overrides(fake_aliyun, tmp_path), alert_repeat_seconds=REPEAT_SECONDS,
                                   alert_max_repeats=2)


def next_round(db, call, run_worker) -> None:
    """Wait until the case's next alert round is due, then run the worker."""
    due = case_of(db, call).next_alert_at
    assert due is not None, "no further alert round is scheduled"
    time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.05)
    run_worker()


def test_a_message_left_on_the_child_line_alerts_every_officer_of_the_chain_by_the_case_alert_template(
        tw, db, chain, fake_aliyun, run_worker):
    call = voicemail_call(tw)
    run_worker()
    code = case_of(db, call).code
    expected = {"code": code, "status": "有留言", "phone": digits(CALLER)}
    assert sent(fake_aliyun, "case_alert") == [(phone, expected) for phone in ALIYUN_CHAIN]
    assert [m["out_id"] for m in fake_aliyun.messages] == [
        m.key for m in db.scalars(select(Message).where(Message.key.like("case-alert:%")).order_by(Message.id))]


def test_the_alert_names_the_case_and_the_callback_number_and_nothing_else(tw, db, chain, fake_aliyun, run_worker):
    call = voicemail_call(tw)
    run_worker()
    [message, *_] = fake_aliyun.messages
    # No child's name, no recording: only the template's three parameters are sent to Alibaba.
    assert set(message["params"]) == {"code", "status", "phone"}
    assert message["content"].endswith(f"个案{case_of(db, call).code}有留言,请回电13904761234。"
                                       f"回复“收到 {case_of(db, call).code}”确认")


def test_unacknowledged_alerts_repeat_in_rounds_through_alibaba(tw, db, chain, fake_aliyun, run_worker):
    call = voicemail_call(tw)
    run_worker()
    next_round(db, call, run_worker)
    assert [phone for phone, _ in sent(fake_aliyun, "case_alert")] == sorted(ALIYUN_CHAIN * 2)
    assert case_of(db, call).alert_round == 2


def test_an_officers_shou_dao_by_sms_up_acknowledges_the_case_and_is_answered_by_template(
        tw, client, db, chain, fake_aliyun, run_worker):
    call = voicemail_call(tw)
    run_worker()
    code = case_of(db, call).code
    reply(client, fake_aliyun, run_worker, TIER2, f"收到 {code}")
    case = case_of(db, call)
    assert case.status == "acknowledged" and case.acknowledged_by_id == chain["c"].id
    assert sent(fake_aliyun, "case_ack_ok") == [(digits(TIER2), {"code": code, "phone": "13904761234"})]


def test_after_the_acknowledgement_no_further_round_goes_out(tw, client, db, chain, fake_aliyun, run_worker):
    call = voicemail_call(tw)
    run_worker()
    due = case_of(db, call).next_alert_at
    reply(client, fake_aliyun, run_worker, TIER2, f"收到 {case_of(db, call).code}")
    time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.05)
    run_worker()
    assert [phone for phone, _ in sent(fake_aliyun, "case_alert")] == ALIYUN_CHAIN  # round 1 only
    case = case_of(db, call)
    assert case.alert_round == 1 and case.next_alert_at is None


def test_the_other_officers_are_not_texted_about_the_acknowledgement(tw, client, db, chain, fake_aliyun,
                                                                      run_worker):
    # As on Twilio: the acknowledging officer is answered; the others simply get no further round.
    call = voicemail_call(tw)
    run_worker()
    before = len(fake_aliyun.messages)
    reply(client, fake_aliyun, run_worker, TIER2, f"收到 {case_of(db, call).code}")
    assert [m["phone"] for m in fake_aliyun.messages[before:]] == [digits(TIER2)]


def test_a_second_officers_shou_dao_is_told_who_acknowledged_first(tw, client, db, chain, fake_aliyun,
                                                                   run_worker):
    call = voicemail_call(tw)
    run_worker()
    code = case_of(db, call).code
    reply(client, fake_aliyun, run_worker, TIER2, f"收到 {code}")
    reply(client, fake_aliyun, run_worker, chain["a"].phone, f"收到 {code}")
    assert sent(fake_aliyun, "case_ack_already") == [(digits(chain["a"].phone),
                                                      {"code": code, "name": "二线丙"})]
    assert case_of(db, call).acknowledged_by_id == chain["c"].id


def test_sms_report_receipts_mark_every_alert_and_answer_delivered(tw, client, db, chain, fake_aliyun, run_worker):
    call = voicemail_call(tw)
    run_worker()
    reply(client, fake_aliyun, run_worker, TIER2, f"收到 {case_of(db, call).code}")
    status, _ = fake_aliyun.push_reports(report_url(), poster(client))
    assert status == 200 and fake_aliyun.pending_pushes == 0
    db.expire_all()
    rows = db.scalars(select(Message).where(Message.direction == "outbound", Message.channel == "sms")).all()
    assert len(rows) == len(CHAIN) + 1 and {m.status for m in rows} == {"delivered"}


def test_a_failed_receipt_marks_that_alert_failed_with_alibabas_code(tw, client, db, chain, fake_aliyun,
                                                                     run_worker):
    voicemail_call(tw)
    run_worker()
    lost = fake_aliyun.messages[0]
    fake_aliyun.fail_delivery(lost["biz_id"], "MOBILE_NOT_ON_SERVICE")
    fake_aliyun.push_reports(report_url(), poster(client))
    db.expire_all()
    row = db.scalar(select(Message).where(Message.key == lost["out_id"]))
    assert row.status == "failed" and "MOBILE_NOT_ON_SERVICE" in (row.error or "")
