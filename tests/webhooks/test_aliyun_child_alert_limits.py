"""Child-line alerts on Alibaba Cloud at their limits: with the SMS budget on, two cases at once reach an officer as
ONE merged template SMS listing the case codes, while the answer to the officer's own SmsUp is never held; an
alert Alibaba refuses with isp.SYSTEM_ERROR is retried by the queue and goes out once (counted by OutId)."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.budget import DEFAULT
from dispatch.jobs import send_message_job
from models import Message, utcnow
from tests.aliyun_helpers import aliyun_fake, code_of, overrides  # noqa: F401 (fixture: fake_aliyun)
from tests.dispatch.budget_helpers import age, rows_to
from tests.dispatch.case_alert_helpers import CHAIN, chain  # noqa: F401 (fixture: chain)
from tests.orders import scheduled_jobs
from tests.webhooks.aliyun_child import reply, sent_to
from tests.webhooks.child_calls import TIER1_A, case_of, voicemail_call

SECOND, THIRD = "+8613904760001", "+8613904760002"


@pytest.fixture
def settings(settings, fake_aliyun, tmp_path):
    """SMS through the Alibaba fake with GoAlert's per-number budget; alert rounds far apart (not the subject)."""
    return settings.with_overrides(**overrides(fake_aliyun, tmp_path), sms_budget=DEFAULT, alert_repeat_seconds=300)


def run_due(app, run_worker, func_name: str) -> None:
    """Make the scheduled jobs of `func_name` due now, then run the worker (as their time coming would)."""
    registry = app.extensions["hotline"].queue.scheduled_job_registry
    jobs = [j for j in scheduled_jobs(app) if j.func_name == func_name]
    assert jobs, f"no {func_name} scheduled"
    for job in jobs:
        registry.schedule(job, utcnow() - timedelta(seconds=1))
    run_worker()


def test_two_cases_at_once_reach_an_officer_over_budget_as_one_merged_alibaba_sms(
        app, tw, db, chain, fake_aliyun, run_worker):
    first = voicemail_call(tw)
    run_worker()
    second, third = voicemail_call(tw, SECOND), voicemail_call(tw, THIRD)
    run_worker()
    assert [m["template_code"] for m in sent_to(fake_aliyun, TIER1_A)] == [code_of("case_alert")]
    assert {m.status for m in rows_to(db, TIER1_A) if m.case_id != case_of(db, first).id} == {"held"}
    age(db, TIER1_A, 60)
    run_due(app, run_worker, "dispatch.jobs.budget_flush_job")
    [alert, merged] = sent_to(fake_aliyun, TIER1_A)
    codes = f"{case_of(db, second).code}、{case_of(db, third).code}"
    assert alert["params"]["code"] == case_of(db, first).code
    assert (merged["template_code"], merged["params"]) == (code_of("alerts_merged"), {"count": "2", "codes": codes})
    assert merged["out_id"].startswith("merged:")


def test_every_held_alert_is_carried_by_the_merged_sms_and_none_is_dropped(app, tw, db, chain, fake_aliyun,
                                                                           run_worker):
    voicemail_call(tw)
    run_worker()
    voicemail_call(tw, SECOND), voicemail_call(tw, THIRD)
    run_worker()
    age(db, TIER1_A, 60)
    run_due(app, run_worker, "dispatch.jobs.budget_flush_job")
    rows = rows_to(db, TIER1_A)
    [merged] = [m for m in rows if (m.key or "").startswith("merged:")]
    alerts = [m for m in rows if (m.key or "").startswith("case-alert:")]
    assert sorted(m.status for m in alerts) == ["merged", "merged", "sent"]
    assert {m.merged_into_id for m in alerts if m.status == "merged"} == {merged.id}
    assert merged.status == "sent" and merged.template == "alerts_merged"


def test_the_answer_to_an_officers_sms_up_goes_out_at_once_though_the_alert_just_used_the_budget(
        app, tw, client, db, chain, fake_aliyun, run_worker):
    # On Twilio the answer is TwiML; on Alibaba it is an outbox SMS, and holding it would leave the officer
    # guessing whether the acknowledgement was heard (dispatch/budget.py exempts answers).
    call = voicemail_call(tw)
    run_worker()
    reply(client, fake_aliyun, run_worker, TIER1_A, f"收到 {case_of(db, call).code}")
    assert [m["template_code"] for m in sent_to(fake_aliyun, TIER1_A)] == [code_of("case_alert"),
                                                                           code_of("case_ack_ok")]


def test_an_alert_refused_with_isp_system_error_is_retried_and_sent_once(app, tw, db, chain, fake_aliyun,
                                                                         run_worker):
    fake_aliyun.answer_next("isp.SYSTEM_ERROR")
    call = voicemail_call(tw)
    run_worker()
    db.expire_all()
    alerts = list(db.scalars(select(Message).where(Message.case_id == case_of(db, call).id,
                                                   Message.key.like("case-alert:%"))))
    [refused] = [m for m in alerts if m.status == "queued"]
    assert "isp.SYSTEM_ERROR" in (refused.error or "") and len(fake_aliyun.messages) == len(CHAIN) - 1
    run_due(app, run_worker, f"{send_message_job.__module__}.{send_message_job.__name__}")
    db.expire_all()
    assert (db.get(Message, refused.id).status, db.get(Message, refused.id).attempts) == ("sent", 2)
    assert Counter(m["out_id"] for m in fake_aliyun.messages) == Counter(m.key for m in alerts)
