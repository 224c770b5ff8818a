"""Who the child line rings is the rota at the call's start, in Asia/Shanghai time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from models import CallLog, RotaShift, escalation_chain, utcnow
from tests import people
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import (
    SHANGHAI,
    TIER1_A,
    TIER1_B,
    TIER2,
    chain,  # noqa: F401 - fixtures
    child_call,
    dial_ended,
    dialled,
    import_rota,
    local,
)

# --- the rota in Asia/Shanghai time ------------------------------------------------------------------------

def test_rota_shift_running_now_in_shanghai_time_is_rung(tw, db):
    people.officer(db, "一线甲", TIER1_A, line=None)
    import_rota(db, (TIER1_A, 1, local(-timedelta(hours=1)), local(timedelta(hours=1))))
    assert dialled(child_call(tw).post("/twilio/voice")) == [TIER1_A]


def test_rota_shift_that_ended_a_minute_ago_in_shanghai_time_is_not_rung(tw, db):
    people.officer(db, "一线甲", TIER1_A, line=None)
    people.officer(db, "二线丙", TIER2, line=None)
    import_rota(db, (TIER1_A, 1, local(-timedelta(hours=8)), local(-timedelta(minutes=1))),
                (TIER2, 2, local(-timedelta(hours=1)), local(timedelta(hours=7))))
    assert dialled(child_call(tw).post("/twilio/voice")) == [TIER2]


def test_rota_shift_starting_in_a_minute_in_shanghai_time_is_not_rung_yet(tw, db):
    people.officer(db, "一线甲", TIER1_A, line=None)
    people.officer(db, "二线丙", TIER2, line=None)
    import_rota(db, (TIER1_A, 1, local(timedelta(minutes=1)), local(timedelta(hours=8))),
                (TIER2, 2, local(-timedelta(hours=1)), local(timedelta(hours=7))))
    assert dialled(child_call(tw).post("/twilio/voice")) == [TIER2]


@pytest.mark.parametrize("at,on_duty", [
    ("2026-12-02 00:30", TIER1_A),  # after local midnight (16:30 UTC the day before)
    ("2026-12-02 07:59", TIER1_A),
    ("2026-12-02 08:00", TIER1_B),  # the hand-over: a shift's end is exclusive
], ids=["after-midnight", "last-minute-of-night", "handover"])
def test_night_shift_hands_over_to_the_day_shift_at_0800_shanghai_time(db, at, on_duty):
    people.officer(db, "夜班甲", TIER1_A, line=None)
    people.officer(db, "白班乙", TIER1_B, line=None)
    import_rota(db, (TIER1_A, 1, "2026-12-01 20:00", "2026-12-02 08:00"),
                (TIER1_B, 1, "2026-12-02 08:00", "2026-12-02 20:00"))
    when = datetime.strptime(at, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    chain = escalation_chain(db, "child", when.astimezone(timezone.utc))
    assert [[o.phone for o in tier] for tier in chain] == [[on_duty]]


def test_officer_on_two_overlapping_shifts_is_rung_once_in_their_lowest_tier(tw, db):
    people.officer(db, "一线甲", TIER1_A, line=None)
    people.officer(db, "二线丙", TIER2, line=None)
    import_rota(db, (TIER1_A, 2, local(-timedelta(hours=4)), local(timedelta(hours=4))),
                (TIER1_A, 1, local(-timedelta(hours=1)), local(timedelta(hours=1))),
                (TIER2, 2, local(-timedelta(hours=1)), local(timedelta(hours=7))))
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    tier2 = dial_ended(call, tier1)
    assert (dialled(tier1), dialled(tier2)) == ([TIER1_A], [TIER2])


def test_shift_ending_mid_call_still_rings_in_the_later_tier_because_the_chain_is_the_rota_at_the_call_start(
        tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    started = db.scalar(select(CallLog.started_at).where(CallLog.call_sid == call.sid))
    shift = db.scalar(select(RotaShift).where(RotaShift.officer_id == chain["c"].id))
    shift.ends_at = started + timedelta(microseconds=1)  # the tier-2 officer goes off duty while tier 1 rings
    db.commit()
    assert TIER2 not in [o.phone for tier in escalation_chain(db, "child", utcnow()) for o in tier]
    assert dialled(dial_ended(call, tier1)) == [TIER2]


def test_shift_starting_mid_call_is_not_rung_because_the_chain_is_the_rota_at_the_call_start(tw, db):
    people.officer(db, "一线甲", TIER1_A, line="child")
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    people.officer(db, "二线丙", TIER2, line="child", tier=2, hours=(0, 8))  # starts after the call began
    resp = dial_ended(call, tier1)
    assert parse_twiml(resp).find("Dial") is None and parse_twiml(resp).find("Record") is not None
