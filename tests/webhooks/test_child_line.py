"""The child-protection line: the call, its case, tiered screened ringing and escalation.

Webhooks are signed as Twilio signs them, on real Redis and a real database (SQLite or PostgreSQL).
The helpers at the top are shared with test_case_alerts.py and test_cases_api.py.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hotline.registry.importer import import_csv
from hotline.webhooks import operator
from models import CallLog, Case, Message, Order, RotaShift, escalation_chain, utcnow
from tests import people
from tests.conftest import CHILD_NUMBER, ELDERLY_NUMBER
from tests.twilio_client import parse_twiml

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALLER = "+8613904761234"  # a child's mobile
TIER1_A, TIER1_B = "+8613800002001", "+8613800002002"
TIER2 = "+8613800002003"
TIER3 = "+8613800002004"
SUPERVISOR = "+8613800009001"
ELDERLY_OFFICER = "+8613800001001"
OFF_DUTY = "+8613800002009"
RECORDING_SID = "RE0123456789abcdef0123456789abcdef"
# The path of this account's recording, on Twilio's host rather than the configured (fake) API: not ours.
FOREIGN_RECORDING = f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Recordings/{RECORDING_SID}"
WHISPER = "未成年人保护热线来电，接听请按1"


# --- helpers (also used by the other child-line test files) -------------------------------------------

def says(resp) -> str:
    """Everything spoken in one TwiML document."""
    return "".join(parse_twiml(resp).itertext())


def verbs(resp) -> list[str]:
    return [el.tag for el in parse_twiml(resp)]


def dial_of(resp):
    dials = parse_twiml(resp).findall("Dial")
    assert len(dials) == 1, f"expected one <Dial>, got {verbs(resp)}"
    return dials[0]


def dialled(resp) -> list[str]:
    """The numbers one <Dial> rings at once, sorted."""
    return sorted(n.text.strip() for n in dial_of(resp).findall("Number"))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def child_call(tw, from_: str = CALLER):
    """A new signed call to the child-protection number."""
    return tw.new_call(from_=from_, to=CHILD_NUMBER)


def dial_ended(call, resp, status: str = "no-answer", **params):
    """Twilio posts the <Dial> action when a tier's ringing ends."""
    sent = {"DialCallSid": "CA" + "d" * 32, "DialCallDuration": "0", **params}
    return call.follow(resp, DialCallStatus=status, **sent)


def screen_leg(tw, call, resp, phone: str):
    """The officer's leg of the parent call's <Dial>: Twilio fetches the <Number url> (the whisper)."""
    number = next(n for n in dial_of(resp).findall("Number") if n.text.strip() == phone)
    leg = tw.new_call(from_=call.from_, to=phone, direction="outbound-dial", ParentCallSid=call.sid)
    return leg, leg.post(path_of(number.get("url")))


def recording_of(settings, sid: str = RECORDING_SID) -> str:
    """The RecordingUrl Twilio posts for one of this account's recordings."""
    return f"{settings.twilio_api_base_url}/2010-04-01/Accounts/{settings.twilio_account_sid}/Recordings/{sid}"


def leave_message(call, resp, url: str | None = None):
    """The caller records a message: Twilio posts the <Record> action (this account's recording by default)."""
    url = url or recording_of(call.tw.client.application.extensions["hotline"].settings)
    assert parse_twiml(resp).find("Record") is not None, f"expected <Record>, got {verbs(resp)}"
    return call.follow(resp, RecordingUrl=url, RecordingSid="RE" + "2" * 32, RecordingDuration="21")


def ring_out(call, resp):
    """Nobody presses 1 in any tier: end every Dial until the caller is asked for a message."""
    for _ in range(10):
        if parse_twiml(resp).find("Dial") is None:
            return resp
        resp = dial_ended(call, resp)
    raise AssertionError("the line rang forever")


def voicemail_call(tw, from_: str = CALLER):
    """A whole child-line call that nobody answers and that ends with a message; returns the call."""
    call = child_call(tw, from_)
    leave_message(call, ring_out(call, call.post("/twilio/voice")))
    return call


def missed_call(tw, from_: str = CALLER):
    """A child-line call whose caller hangs up while tier 1 rings (known from the status callback)."""
    call = child_call(tw, from_)
    call.post("/twilio/voice")
    call.status("completed", CallDuration="9")
    return call


def case_of(db, call) -> Case | None:
    db.expire_all()
    return db.scalar(select(Case).where(Case.call_sid == call.sid))


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def event_kinds(case: Case) -> list[str]:
    return [e.kind for e in case.events]


def staff(db) -> dict:
    """The child line's chain now: two officers in tier 1, one in tier 2, one in tier 3, a supervisor
    (on no rota), an elderly-line officer and a child-line officer whose shift is over."""
    return {
        "a": people.officer(db, "一线甲", TIER1_A, line="child", tier=1),
        "b": people.officer(db, "一线乙", TIER1_B, line="child", tier=1),
        "c": people.officer(db, "二线丙", TIER2, line="child", tier=2),
        "d": people.officer(db, "三线丁", TIER3, line="child", tier=3),
        "sup": people.officer(db, "督导戊", SUPERVISOR, role="supervisor", line=None),
        "elderly": people.officer(db, "养老线己", ELDERLY_OFFICER, line="elderly"),
        "off": people.officer(db, "下班庚", OFF_DUTY, line="child", tier=1, hours=(-9, -1)),
    }


def local(delta: timedelta = timedelta()) -> str:
    """A wall-clock time in Asia/Shanghai, as a rota file writes it (no offset)."""
    return (datetime.now(SHANGHAI) + delta).strftime("%Y-%m-%d %H:%M:%S")


def import_rota(db, *rows: tuple[str, int, str, str]) -> None:
    """Import rota rows (officer phone, tier, local start, local end) for the child line, as the bureau does."""
    lines = ["officer_phone,line,tier,starts_at,ends_at"]
    lines += [f"{phone},child,{tier},{start},{end}" for phone, tier, start, end in rows]
    result = import_csv(db, "rota", ("\n".join(lines) + "\n").encode(), SHANGHAI)
    assert result.ok, result.errors
    db.commit()


@pytest.fixture
def chain(db):
    return staff(db)


# --- the greeting ---------------------------------------------------------------------------------------

def test_greeting_is_calm_mandarin_and_tells_a_caller_in_danger_to_hang_up_and_dial_110(tw, chain):
    resp = child_call(tw).post("/twilio/voice")
    root = parse_twiml(resp)
    greeting = "".join("".join(s.itertext()) for s in root.findall("Say"))
    assert "110" in greeting and "未成年人保护热线" in greeting
    for say in root.findall("Say"):
        assert say.get("language") == "cmn-CN" and say.get("voice")
    assert root.find("Gather") is None  # no menu to get lost in


def test_greeting_is_short(tw, chain):
    greeting = "".join("".join(s.itertext()) for s in parse_twiml(child_call(tw).post("/twilio/voice")).findall("Say"))
    assert len(re.findall(r"[\u4e00-\u9fff]", greeting)) <= 60  # ~15 s of slow Mandarin


def test_greeting_is_spoken_before_the_first_ring(tw, chain):
    tags = verbs(child_call(tw).post("/twilio/voice"))
    assert tags.index("Say") < tags.index("Dial")


# --- the case is committed first -------------------------------------------------------------------------

def test_case_is_committed_at_the_first_webhook(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    case = case_of(db, call)
    assert case is not None and case.status == "ringing"
    assert case.caller == CALLER and re.fullmatch(r"\d{6}", case.code)
    assert event_kinds(case)[0] == "call"


def test_case_is_committed_before_the_first_twiml_is_built(tw, db, chain, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("TwiML could not be built")

    monkeypatch.setattr(operator, "operator_response", broken)
    call = child_call(tw)
    with pytest.raises(RuntimeError):
        call.post("/twilio/voice")
    assert case_of(db, call).status == "ringing"


def test_retried_first_webhook_keeps_one_case(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    call.post("/twilio/voice")
    assert count(db, Case) == 1


def test_elderly_line_calls_open_no_case(tw, db, chain):
    call = tw.new_call(from_=CALLER, to=ELDERLY_NUMBER)
    call.follow(call.post("/twilio/voice"), Digits="0")
    assert count(db, Case) == 0


# --- tiers --------------------------------------------------------------------------------------------------

def test_all_tier_1_officers_ring_at_once_in_one_dial(tw, chain):
    resp = child_call(tw).post("/twilio/voice")
    assert dialled(resp) == sorted([TIER1_A, TIER1_B])


def test_each_ring_is_at_most_25_seconds_with_answer_on_bridge(tw, chain):
    call = child_call(tw)
    resp = call.post("/twilio/voice")
    for _ in range(3):
        dial = dial_of(resp)
        assert int(dial.get("timeout")) <= 25
        assert dial.get("answerOnBridge") == "true"
        resp = dial_ended(call, resp)


def test_default_ring_is_20_seconds(tw, chain):
    assert dial_of(child_call(tw).post("/twilio/voice")).get("timeout") == "20"


def test_unanswered_tiers_escalate_from_tier_1_to_tier_2_to_tier_3(tw, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    tier2 = dial_ended(call, tier1)
    tier3 = dial_ended(call, tier2, status="busy")
    assert (dialled(tier1), dialled(tier2), dialled(tier3)) == (sorted([TIER1_A, TIER1_B]), [TIER2], [TIER3])


def test_off_duty_and_elderly_line_officers_and_supervisors_are_not_rung_while_the_rota_has_someone(tw, chain):
    call = child_call(tw)
    resp = call.post("/twilio/voice")
    rung = []
    while parse_twiml(resp).find("Dial") is not None:
        rung += dialled(resp)
        resp = dial_ended(call, resp)
    assert sorted(rung) == sorted([TIER1_A, TIER1_B, TIER2, TIER3])


def test_exhausted_chain_records_a_message_of_up_to_3_minutes(tw, chain):
    call = child_call(tw)
    resp = ring_out(call, call.post("/twilio/voice"))
    root = parse_twiml(resp)
    record = root.find("Record")
    assert record is not None and root.find("Dial") is None
    assert record.get("maxLength") == "180"
    assert urlsplit(record.get("action")).path == "/twilio/voice/message"


def test_message_is_thanked_and_the_call_hung_up(tw, chain):
    call = child_call(tw)
    resp = leave_message(call, ring_out(call, call.post("/twilio/voice")))
    assert "您的留言已收到" in says(resp)
    assert verbs(resp)[-1] == "Hangup"


def test_empty_rota_rings_the_supervisors(tw, db):
    people.officer(db, "督导戊", SUPERVISOR, role="supervisor", line=None)
    people.officer(db, "下班庚", OFF_DUTY, line="child", hours=(-9, -1))
    people.officer(db, "养老线己", ELDERLY_OFFICER, line="elderly")
    assert dialled(child_call(tw).post("/twilio/voice")) == [SUPERVISOR]


def test_supervisors_not_answering_lead_to_the_message(tw, db):
    people.officer(db, "督导戊", SUPERVISOR, role="supervisor", line=None)
    call = child_call(tw)
    resp = dial_ended(call, call.post("/twilio/voice"))
    assert parse_twiml(resp).find("Record") is not None


def test_nobody_at_all_goes_straight_to_the_message_after_the_greeting(tw, db):
    call = child_call(tw)
    resp = call.post("/twilio/voice")
    root = parse_twiml(resp)
    assert root.find("Dial") is None
    assert root.find("Record").get("maxLength") == "180"
    assert "110" in says(resp)
    assert case_of(db, call).status == "ringing"


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


# --- screening ------------------------------------------------------------------------------------------------

def test_every_number_runs_the_child_line_screening_whisper(tw, chain):
    call = child_call(tw)
    resp = call.post("/twilio/voice")
    for phone in (TIER1_A, TIER1_B):
        _, screen = screen_leg(tw, call, resp, phone)
        gather = parse_twiml(screen).find("Gather")
        assert WHISPER in "".join(gather.itertext())
        assert gather.get("numDigits") == "1"
        assert urlsplit(gather.get("action")).path == "/twilio/voice/screen/answer"


def test_screening_silence_falls_through_to_hang_up_the_officers_leg(tw, chain):
    call = child_call(tw)
    _, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_A)
    gather = parse_twiml(screen).find("Gather")
    assert gather.get("actionOnEmptyResult") != "true"  # silence never reaches the answer URL
    assert verbs(screen)[-1] == "Hangup"


def test_officer_pressing_2_is_hung_up_and_not_recorded(tw, db, chain):
    call = child_call(tw)
    leg, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_A)
    assert verbs(leg.follow(screen, Digits="2")) == ["Hangup"]
    case = case_of(db, call)
    assert case.status == "ringing" and case.answered_by_id is None


def test_refusal_by_every_tier_1_officer_rings_tier_2(tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    for phone in (TIER1_A, TIER1_B):
        leg, screen = screen_leg(tw, call, tier1, phone)
        leg.follow(screen, Digits="2")
    assert dialled(dial_ended(call, tier1, status="completed", DialCallDuration="6")) == [TIER2]


def test_screening_silence_then_the_next_tier_rings_and_nobody_is_recorded(tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    screen_leg(tw, call, tier1, TIER1_A)  # the officer picks up and says nothing: the leg hangs up
    assert dialled(dial_ended(call, tier1, status="completed", DialCallDuration="10")) == [TIER2]
    assert case_of(db, call).answered_by_id is None


def test_voicemail_box_picking_up_is_not_an_answer_and_the_next_tier_rings(tw, db, chain):
    call = child_call(tw)
    resp = dial_ended(call, call.post("/twilio/voice"), status="completed", DialCallDuration="14")
    assert dialled(resp) == [TIER2]
    case = case_of(db, call)
    assert case.status == "ringing" and case.answered_by_id is None


def test_officer_pressing_1_answers_the_case(tw, db, chain):
    call = child_call(tw)
    leg, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_B)
    accepted = leg.follow(screen, Digits="1")
    assert "Hangup" not in verbs(accepted)  # the leg bridges
    case = case_of(db, call)
    assert case.status == "answered" and case.answered_by_id == chain["b"].id and case.answered_at is not None


def test_answered_call_ends_without_ringing_another_tier(tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    leg, screen = screen_leg(tw, call, tier1, TIER1_A)
    leg.follow(screen, Digits="1")
    assert verbs(dial_ended(call, tier1, status="completed", DialCallDuration="300")) == ["Hangup"]


def test_answer_in_tier_2_is_recorded_on_the_case(tw, db, chain):
    call = child_call(tw)
    tier2 = dial_ended(call, call.post("/twilio/voice"))
    leg, screen = screen_leg(tw, call, tier2, TIER2)
    leg.follow(screen, Digits="1")
    assert case_of(db, call).answered_by_id == chain["c"].id


def test_second_officer_pressing_1_is_hung_up_and_the_first_keeps_the_case(tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    leg_a, screen_a = screen_leg(tw, call, tier1, TIER1_A)
    leg_b, screen_b = screen_leg(tw, call, tier1, TIER1_B)
    leg_a.follow(screen_a, Digits="1")
    assert verbs(leg_b.follow(screen_b, Digits="1")) == ["Hangup"]
    assert case_of(db, call).answered_by_id == chain["a"].id


def test_answered_call_ending_is_not_missed_and_sends_no_alert(tw, db, chain):
    call = child_call(tw)
    tier1 = call.post("/twilio/voice")
    leg, screen = screen_leg(tw, call, tier1, TIER1_A)
    leg.follow(screen, Digits="1")
    dial_ended(call, tier1, status="completed", DialCallDuration="300", CallStatus="completed")
    call.status("completed", CallDuration="320")
    assert case_of(db, call).status == "answered"
    assert count(db, Message) == 0


# --- events -----------------------------------------------------------------------------------------------------

def test_every_ring_attempt_is_an_event_with_its_officers_and_outcome(tw, db, chain):
    call = child_call(tw)
    resp = call.post("/twilio/voice")
    resp = dial_ended(call, resp, status="no-answer")
    resp = dial_ended(call, resp, status="completed")
    resp = dial_ended(call, resp, status="busy")
    leave_message(call, resp)
    case = case_of(db, call)
    assert event_kinds(case) == ["call", "ring", "no-answer", "ring", "no-answer", "ring", "no-answer",
                                 "voicemail", "alert"]
    details = [e.detail for e in case.events]
    assert "一线甲" in details[1] and "一线乙" in details[1]
    assert "二线丙" in details[3] and "三线丁" in details[5]
    assert "no-answer" in details[2] and "completed" in details[4] and "busy" in details[6]


def test_answer_is_an_event_naming_the_officer(tw, db, chain):
    call = child_call(tw)
    leg, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_A)
    leg.follow(screen, Digits="1")
    case = case_of(db, call)
    assert case.events[-1].kind == "answered" and case.events[-1].detail == "一线甲"


# --- voicemail and missed calls -------------------------------------------------------------------------

def test_message_sets_the_case_to_voicemail_with_the_recording_url(tw, db, chain, settings):
    case = case_of(db, voicemail_call(tw))
    assert case.status == "voicemail" and case.recording_url == recording_of(settings)


def test_retried_message_webhook_keeps_one_voicemail_event(tw, db, chain):
    call = child_call(tw)
    record = ring_out(call, call.post("/twilio/voice"))
    leave_message(call, record)
    leave_message(call, record)
    assert event_kinds(case_of(db, call)).count("voicemail") == 1


def test_caller_hanging_up_while_ringing_is_missed_via_the_status_callback(tw, db, chain):
    case = case_of(db, missed_call(tw))
    assert case.status == "missed" and case.recording_url is None
    assert "missed" in event_kinds(case)


def test_caller_hanging_up_during_the_greeting_is_missed(tw, db):
    call = child_call(tw)  # nobody on duty: straight to the message, but the caller hangs up first
    call.post("/twilio/voice")
    call.status("completed", CallDuration="4")
    assert case_of(db, call).status == "missed"


@pytest.mark.parametrize("dial_status", ["no-answer", "completed"])
def test_caller_hanging_up_during_a_tier_is_missed_via_the_dial_action(tw, db, chain, dial_status):
    call = child_call(tw)
    resp = dial_ended(call, call.post("/twilio/voice"), status=dial_status, CallStatus="completed")
    assert verbs(resp) == ["Hangup"]  # no further tier for a caller who is gone
    assert case_of(db, call).status == "missed"


def test_status_callback_for_a_child_call_never_seen_still_leaves_a_missed_case(tw, db, chain):
    call = child_call(tw)  # the voice webhook never reached us (e.g. Twilio used the fallback URL)
    call.status("completed", CallDuration="3")
    case = case_of(db, call)
    assert case is not None and case.status == "missed" and case.caller == CALLER


def test_status_callback_twice_gives_one_missed_event_and_one_alert_round(tw, db, chain):
    call = missed_call(tw)
    messages = count(db, Message)
    call.status("completed", CallDuration="9")
    case = case_of(db, call)
    assert event_kinds(case).count("missed") == 1 and event_kinds(case).count("alert") == 1
    assert case.alert_round == 1 and count(db, Message) == messages


def test_dial_action_then_status_callback_give_one_missed_event(tw, db, chain):
    call = child_call(tw)
    dial_ended(call, call.post("/twilio/voice"), CallStatus="completed")
    call.status("completed", CallDuration="25")
    case = case_of(db, call)
    assert case.status == "missed" and event_kinds(case).count("missed") == 1


def test_late_progress_callbacks_after_completed_change_nothing(tw, db, chain):
    call = missed_call(tw)
    before = case_of(db, call)
    snapshot = (before.status, len(before.events), before.alert_round)
    call.status("ringing")
    call.status("in-progress")
    after = case_of(db, call)
    assert (after.status, len(after.events), after.alert_round) == snapshot


def test_in_progress_callback_while_ringing_leaves_the_case_ringing(tw, db, chain):
    call = child_call(tw)
    call.post("/twilio/voice")
    call.status("in-progress")
    assert case_of(db, call).status == "ringing"


def test_completed_callback_after_the_message_keeps_the_voicemail(tw, db, chain, settings):
    call = voicemail_call(tw)
    call.status("completed", CallDuration="80")
    case = case_of(db, call)
    assert case.status == "voicemail" and case.recording_url == recording_of(settings)
    assert event_kinds(case).count("alert") == 1


def test_completed_callback_before_the_record_action_still_keeps_the_message(tw, db, chain, settings):
    call = child_call(tw)
    record = ring_out(call, call.post("/twilio/voice"))
    call.status("completed", CallDuration="80")  # delivered out of order
    leave_message(call, record)
    case = case_of(db, call)
    assert case.status == "voicemail" and case.recording_url == recording_of(settings)
    assert event_kinds(case).count("alert") == 1


def test_child_line_calls_never_appear_among_orders(tw, db, api, chain):
    voicemail_call(tw)
    missed_call(tw, "+8613904760000")
    assert api("/api/orders").get_json() == {"orders": []}
    assert count(db, Order) == 0


# --- bad inputs -------------------------------------------------------------------------------------------

CHILD_PARAMS = {"CallSid": "CA" + "7" * 32, "AccountSid": "AC" + "1" * 32, "From": CALLER, "To": CHILD_NUMBER,
                "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
UNSIGNED = [
    ("/twilio/voice", {}),
    ("/twilio/voice/message", {"RecordingUrl": FOREIGN_RECORDING, "RecordingSid": "RE" + "1" * 32}),
    ("/twilio/voice/ack?case=123456&officer=1&end=1", {"Digits": "1"}),
]


@pytest.mark.parametrize("path,extra", UNSIGNED, ids=[p.split("?")[0].rsplit("/", 1)[-1] for p, _ in UNSIGNED])
def test_unsigned_child_line_webhook_is_refused_and_opens_no_case(tw, db, chain, path, extra):
    resp = tw.post(path, {**CHILD_PARAMS, **extra}, signed=False)
    assert resp.status_code == 403
    assert count(db, Case) == 0 and count(db, CallLog) == 0 and count(db, Message) == 0
