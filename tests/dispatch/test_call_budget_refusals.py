"""A call Alibaba's voice service refuses for the number's own limit (isv.BUSINESS_LIMIT_CONTROL: more than one call a
minute, five an hour or twenty a day to one number), through the dyvms adapter against its fake: the call is held,
never failed nor retried in a loop, and placed at the budget's next place."""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from dispatch import deferred
from dispatch.call_budget import LIMITED, call_windows, next_call_at
from dispatch.jobs import flush_budget
from dispatch.outbox import deliver, queue_message
from dispatch.providers import build_provider
from dispatch.texts import render
from dispatch.voice_messages import spoken_notification
from models import Message, utcnow
from models.phone import mask
from tests.aliyun_helpers import aliyun_fake, voice_fake, voice_settings  # noqa: F401 (fixtures: fake_aliyun, fake_voice, settings)
from tests.webhooks.child_calls import SUPERVISOR


def _notice() -> str:
    """A landline resident's notice call (said as an approved TTS template)."""
    return spoken_notification("zh-CN", render("zh-CN", "notify_resident_call", name="张桂兰", digits="1 2 3",
                                               tech="王师傅", phone_digits="1 3 8"))


def _call(db, settings, key: str) -> Message:
    """Queue one call to the supervisor and send it as the send job does."""
    row = queue_message(db, key, SUPERVISOR, _notice(), channel="call")
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender, (), call_windows(settings))
    db.expire_all()
    return db.get(Message, row.id)


def _refused(db, settings, fake_voice) -> Message:
    """A first call placed, then a second one within the minute, which Alibaba refuses for the number's limit."""
    first = _call(db, settings.with_overrides(call_budget="off"), "notify:accepted:1")
    assert first.status == "sent" and len(fake_voice.calls) == 1
    return _call(db, settings.with_overrides(call_budget="off"), "notify:accepted:2")


def test_a_call_alibaba_refuses_for_the_numbers_limit_is_held_not_failed(app, db, settings, fake_voice):
    row = _refused(db, settings, fake_voice)
    assert row.status == "held" and row.error.startswith(LIMITED)
    assert len(fake_voice.calls) == 1  # the refused one was not placed


def test_a_refused_call_is_logged_with_the_number_masked(app, db, settings, fake_voice, caplog):
    with caplog.at_level(logging.INFO):
        _refused(db, settings, fake_voice)
    held = [r.getMessage() for r in caplog.records if "held" in r.getMessage()]
    assert held and all(mask(SUPERVISOR) in m and SUPERVISOR not in m for m in held)


def test_a_refused_call_waits_for_the_budgets_next_place_even_with_the_budget_off(app, db, settings, fake_voice):
    off = settings.with_overrides(call_budget="off")
    row = _refused(db, settings, fake_voice)
    [again] = flush_budget(db, row.id, off, utcnow())
    assert again.kind == deferred.BUDGET_FLUSH and timedelta(seconds=55) < again.at - utcnow() <= timedelta(seconds=60)
    assert next_call_at(db, SUPERVISOR, utcnow() + timedelta(seconds=61), ()) is None


def test_a_refused_call_is_placed_at_the_next_place(app, db, settings, fake_voice):
    off = settings.with_overrides(call_budget="off")
    row = _refused(db, settings, fake_voice)
    later = time.time() + 61
    fake_voice.clock = lambda: later  # a minute on, Alibaba takes a call to the number again
    follow = flush_budget(db, row.id, off, utcnow() + timedelta(seconds=61))
    db.commit()
    for sent_id in deferred.message_ids(follow):
        deliver(db, sent_id, build_provider(off), off.sender, (), call_windows(off))
    db.expire_all()
    assert db.get(Message, row.id).status == "sent" and len(fake_voice.calls) == 2
    assert fake_voice.calls[1]["out_id"] == str(row.id)
