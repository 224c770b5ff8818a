"""Replays of signed webhooks have one effect: by content, whatever their idempotency token, receipts purged
or not; and a RecordingUrl is kept only when it is this account's, and only the first."""
from __future__ import annotations

import secrets

from sqlalchemy import delete, select

from models import CallLog, WebhookReceipt
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import (  # noqa: F401 - chain: the rota
    FOREIGN_RECORDING,
    case_of,
    chain,
    child_call,
    event_kinds,
    leave_message,
    recording_of,
    ring_out,
    voicemail_call,
)


def _replay(tw, call, purge_db=None, times: int = 5):
    """Post every webhook of the call again, `times` over, each with a new idempotency token."""
    for _ in range(times):
        if purge_db is not None:  # receipts are purged after a few days (models.receipts.purge_receipts)
            purge_db.execute(delete(WebhookReceipt))
            purge_db.commit()
        for path, params in list(call.history):
            resp = tw.post(path, params, headers={"I-Twilio-Idempotency-Token": secrets.token_hex(16)})
            assert resp.status_code == 200, path


def _kinds(db, call) -> list[str]:
    db.expire_all()
    return event_kinds(case_of(db, call))


def test_replays_with_new_tokens_ring_each_tier_once(tw, db, chain):
    call = voicemail_call(tw)
    before = _kinds(db, call)
    _replay(tw, call)
    assert _kinds(db, call) == before and before.count("ring") == 3


def test_replays_after_the_receipts_are_purged_ring_each_tier_once(tw, db, chain):
    call = voicemail_call(tw)
    _replay(tw, call, purge_db=db)
    kinds = _kinds(db, call)
    assert kinds.count("ring") == 3 and kinds.count("no-answer") == 3


def test_replays_after_the_receipts_are_purged_start_the_alerts_once(tw, db, chain):
    call = voicemail_call(tw)
    _replay(tw, call, purge_db=db)
    kinds = _kinds(db, call)
    assert kinds.count("voicemail") == 1 and kinds.count("alert") == 1 and kinds.count("call") == 1


def test_a_replayed_greeting_with_a_new_token_adds_no_ring_event(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    _replay(tw, call)
    assert _kinds(db, call) == ["call", "ring"]


def test_a_recording_url_of_another_host_is_ignored_and_the_message_still_taken(tw, db, chain):
    call = child_call(tw)
    resp = leave_message(call, ring_out(call, call.post("/twilio/voice")), url=FOREIGN_RECORDING)
    assert parse_twiml(resp).find("Say") is not None
    case = case_of(db, call)
    assert case.status == "voicemail" and case.recording_url is None


def test_a_recording_url_of_another_account_is_ignored(tw, db, chain, settings):
    other = recording_of(settings.with_overrides(twilio_account_sid="AC" + "2" * 32))
    call = child_call(tw)
    leave_message(call, ring_out(call, call.post("/twilio/voice")), url=other)
    assert case_of(db, call).recording_url is None


def test_a_recording_url_with_more_after_the_sid_is_ignored(tw, db, chain, settings):
    call = child_call(tw)
    leave_message(call, ring_out(call, call.post("/twilio/voice")), url=recording_of(settings) + "/../../x")
    assert case_of(db, call).recording_url is None


def test_a_second_recording_url_never_replaces_the_first(tw, db, chain, settings):
    call = child_call(tw)
    record = ring_out(call, call.post("/twilio/voice"))
    leave_message(call, record)
    leave_message(call, record, url=recording_of(settings, "RE" + "f" * 32))
    row = db.scalar(select(CallLog).where(CallLog.call_sid == call.sid))
    assert case_of(db, call).recording_url == recording_of(settings) == row.recording_url


def test_the_cases_api_never_hands_out_a_foreign_recording_url(tw, db, chain, api):
    call = child_call(tw)
    leave_message(call, ring_out(call, call.post("/twilio/voice")), url="https://evil.example/x.mp3")
    body = api(f"/api/cases/{case_of(db, call).code}").get_json()
    assert body["recording_url"] is None and "evil" not in str(api("/api/cases").get_json())


def test_a_replayed_final_status_after_the_receipts_are_purged_changes_nothing(tw, db, chain):
    call = voicemail_call(tw)
    call.status("completed", CallDuration="80")
    ended = db.scalar(select(CallLog).where(CallLog.call_sid == call.sid)).ended_at
    _replay(tw, call, purge_db=db, times=2)
    db.expire_all()
    row = db.scalar(select(CallLog).where(CallLog.call_sid == call.sid))
    assert (row.ended_at, row.outcome, row.duration_s) == (ended, "voicemail", 80)
    assert _kinds(db, call).count("alert") == 1
