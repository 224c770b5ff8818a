"""Webhooks hand all their deferred work to the queue after the commit, whatever its kinds."""
from __future__ import annotations

from datetime import timedelta

from dispatch import deferred
from dispatch.reconcile import kind_of
from models import utcnow
from tests.conftest import ELDERLY_NUMBER
from tests.orders import scheduled_jobs
from tests.webhooks.child_calls import child_call

LATER = timedelta(minutes=10)


def test_a_call_webhook_whose_follow_up_holds_an_sla_check_and_a_satisfaction_call_schedules_both(
        tw, app, monkeypatch):
    at = utcnow() + LATER
    work = [deferred.arrival_check(41, at), deferred.satisfaction_call(42, at)]
    monkeypatch.setattr("hotline.webhooks.voice.caller_gone", lambda row: list(work))
    call = child_call(tw)
    call.post("/twilio/voice")
    call.status("completed", CallDuration="9")  # the caller hung up: the status webhook commits, then schedules
    assert sorted((kind_of(j), j.args) for j in scheduled_jobs(app)) == [
        (deferred.ARRIVAL_CHECK, (41,)), (deferred.SATISFACTION_CALL, (42,))]


def test_a_voicemail_webhook_schedules_every_kind_its_follow_up_holds(tw, app, monkeypatch):
    work = [deferred.offer(51), deferred.expire_offer(52, utcnow() + LATER)]
    monkeypatch.setattr("hotline.webhooks.operator.callback_alert", lambda *args: list(work))
    call = tw.new_call(from_="+8613800000009", to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    call.post("/twilio/voice/message", RecordingUrl="https://api.twilio.com/rec/RE1", RecordingSid="RE" + "1" * 32)
    queue = app.extensions["hotline"].queue
    assert [(kind_of(j), j.args) for j in queue.get_jobs()] == [(deferred.OFFER, (51,))]
    assert [(kind_of(j), j.args) for j in scheduled_jobs(app)] == [(deferred.EXPIRE_OFFER, (52,))]
