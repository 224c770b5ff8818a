"""Child-line alerts over an officer's SMS budget are held, then sent as ONE SMS listing the case codes; nothing
held is ever dropped (each row ends sent, or merged with a link to the SMS that carried it)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch import deferred, jobs
from dispatch.budget import parse_budget
from dispatch.held_sms import MAX_CODES, flush_held, overdue_flushes
from dispatch.outbox import deliver, queue_message
from dispatch.providers import build_provider
from models import Message, utcnow
from tests.dispatch.budget_helpers import OFFICER, OTHER, age, case, rows_to, sent_row, settings  # noqa: F401
from tests.dispatch.case_alert_helpers import chain  # noqa: F401 - fixture
from tests.orders import texts_to
from tests.webhooks.child_calls import TIER1_A, case_of, voicemail_call


def _alert(db, settings, key: str, case_id: int, to: str = OFFICER) -> Message:
    """Queue and send one alert SMS about a case (held when over budget)."""
    row = queue_message(db, key, to, f"个案提醒 {key}", case_id=case_id)
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender, parse_budget(settings.sms_budget))
    db.expire_all()
    return db.get(Message, row.id)


def _flush(db, settings, message_id: int) -> list[Message]:
    """Run the flush as its job does (its decision committed), and send what it queued."""
    follow = flush_held(db, message_id, settings, utcnow())
    db.commit()
    for sent_id in deferred.message_ids(follow):
        deliver(db, sent_id, build_provider(settings), settings.sender, parse_budget(settings.sms_budget))
    return rows_to(db, db.get(Message, message_id).to_phone)


def _three_held(db, settings) -> list[Message]:
    """Three alerts of three cases held for OFFICER (who got an SMS 10 s ago): a case alert, a police-report
    alert and an overdue task."""
    sent_row(db, OFFICER, 10)
    cases = [case(db, code) for code in ("100001", "100002", "100003")]
    return [_alert(db, settings, "case-alert:%d:1:1" % cases[0].id, cases[0].id),
            _alert(db, settings, "police-alert:%d:1:1" % cases[1].id, cases[1].id),
            _alert(db, settings, "task-overdue:9:1700000000:1:o1", cases[2].id)]


def test_alerts_over_the_budget_are_held_not_sent(app, db, settings, fake_twilio):
    held = _three_held(db, settings)
    assert [m.status for m in held] == ["held"] * 3
    assert texts_to(fake_twilio, OFFICER) == []


def test_held_alerts_go_out_as_one_sms_listing_the_case_codes_when_the_budget_allows(app, db, settings,
                                                                                     fake_twilio):
    held = _three_held(db, settings)
    age(db, OFFICER, 60)
    _flush(db, settings, held[0].id)
    [text] = texts_to(fake_twilio, OFFICER)
    assert "3条提醒" in text and "100001、100002、100003" in text


def test_every_held_alert_is_marked_merged_with_a_link_to_the_sms_that_carried_it(app, db, settings):
    held = _three_held(db, settings)
    age(db, OFFICER, 60)
    rows = _flush(db, settings, held[0].id)
    [merged] = [m for m in rows if (m.key or "").startswith("merged:")]
    assert merged.status == "sent" and merged.template == "alerts_merged"
    assert [(m.status, m.merged_into_id) for m in rows if m.id in {h.id for h in held}] == [("merged", merged.id)] * 3


def test_a_flush_before_the_budget_allows_sends_nothing_and_comes_back_on_time(app, db, settings, fake_twilio):
    held = _three_held(db, settings)
    follow = flush_held(db, held[0].id, settings, utcnow())
    [again] = follow
    assert again.kind == deferred.BUDGET_FLUSH and timedelta(seconds=45) < again.at - utcnow() <= timedelta(seconds=50)
    assert [m.status for m in rows_to(db, OFFICER)[1:]] == ["held"] * 3 and fake_twilio.messages == []


def test_a_single_held_alert_goes_out_as_itself(app, db, settings, fake_twilio):
    sent_row(db, OFFICER, 10)
    one = case(db, "100001")
    held = _alert(db, settings, f"case-alert:{one.id}:1:1", one.id)
    age(db, OFFICER, 60)
    _flush(db, settings, held.id)
    assert db.get(Message, held.id).status == "sent"
    assert texts_to(fake_twilio, OFFICER) == [f"个案提醒 case-alert:{one.id}:1:1"]


def test_a_new_alert_joins_the_alerts_held_for_its_number_even_when_the_budget_allows(app, db, settings):
    held = _three_held(db, settings)
    age(db, OFFICER, 60)
    late = case(db, "100004")
    assert _alert(db, settings, f"case-alert:{late.id}:1:1", late.id).status == "held"
    rows = _flush(db, settings, held[0].id)
    assert sum(m.status == "merged" for m in rows) == 4


def test_another_sms_held_for_the_number_goes_out_as_itself_after_the_merged_one(app, db, settings, fake_twilio):
    held = _three_held(db, settings)
    other = queue_message(db, "assigned:5:1", OFFICER, "人工派单")
    db.commit()
    deliver(db, other.id, build_provider(settings), settings.sender, parse_budget(settings.sms_budget))
    age(db, OFFICER, 60)
    follow = flush_held(db, held[0].id, settings, utcnow())
    db.commit()
    assert deferred.of_kind(follow, deferred.BUDGET_FLUSH)[0].args == (other.id,)
    assert db.get(Message, other.id).status == "held"


def test_more_codes_than_fit_are_cut_and_the_count_tells_how_many_alerts(app, db, settings, fake_twilio):
    sent_row(db, OFFICER, 10)
    cases = [case(db, f"2000{i:02d}") for i in range(MAX_CODES + 2)]
    first = [_alert(db, settings, f"case-alert:{c.id}:1:1", c.id) for c in cases][0]
    age(db, OFFICER, 60)
    _flush(db, settings, first.id)
    [text] = texts_to(fake_twilio, OFFICER)
    assert f"{MAX_CODES + 2}条提醒" in text and "200004…" in text and "200005" not in text


def test_held_alerts_of_another_number_are_left_alone(app, db, settings):
    sent_row(db, OTHER, 10)
    theirs = case(db, "100009")
    other = _alert(db, settings, f"case-alert:{theirs.id}:1:2", theirs.id, to=OTHER)
    held = _three_held(db, settings)
    age(db, OFFICER, 60)
    _flush(db, settings, held[0].id)
    assert db.get(Message, other.id).status == "held"


def test_the_reconciler_finds_every_number_whose_held_sms_the_budget_now_allows(app, db, settings):
    held = _three_held(db, settings)
    assert overdue_flushes(db, utcnow(), utcnow(), settings) == []
    age(db, OFFICER, 60)
    assert overdue_flushes(db, utcnow(), utcnow(), settings) == [deferred.budget_flush(held[0].id)]


def test_case_alert_rounds_of_two_calls_reach_an_officer_as_one_alert_then_one_merged_sms(
        tw, db, chain, run_worker, fake_twilio):
    voicemail_call(tw)
    run_worker()
    second, third = voicemail_call(tw, from_="+8613904760001"), voicemail_call(tw, from_="+8613904760002")
    run_worker()
    assert len(texts_to(fake_twilio, TIER1_A)) == 1
    [held, *_] = [m for m in rows_to(db, TIER1_A) if m.status == "held"]
    age(db, TIER1_A, 60)
    jobs.budget_flush_job(held.id)  # the job the worker scheduled for when the budget allows
    merged = texts_to(fake_twilio, TIER1_A)[-1]
    assert "2条提醒" in merged and case_of(db, second).code in merged and case_of(db, third).code in merged
    assert {m.status for m in rows_to(db, TIER1_A) if (m.key or "").startswith("case-alert:")} == {"sent", "merged"}


def test_nothing_held_is_left_once_the_budget_allows(app, db, settings):
    held = _three_held(db, settings)
    age(db, OFFICER, 60)
    _flush(db, settings, held[0].id)
    assert db.scalars(select(Message).where(Message.status == "held")).all() == []
