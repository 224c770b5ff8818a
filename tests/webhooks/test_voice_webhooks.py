"""The elderly line's voice webhooks, signed as Twilio signs them, on real Redis and a real database."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from hotline.webhooks import call_store
from ivr_flows.prompts import spoken_digits
from models import CallLog, Message, Order, utcnow
from tests import people
from tests.conftest import AUTH_TOKEN, CHILD_NUMBER, ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import recording_of

UNKNOWN_CALLER = "+8613700001111"
OFFICER_A, OFFICER_B, OFFICER_C = "+8613800001001", "+8613800001002", "+8613800001003"
SUPERVISOR = "+8613800009001"
CHILD_OFFICER = "+8613800002001"
MENU_PATH = "/twilio/voice/menu"


# --- helpers ----------------------------------------------------------------------------------------

def says(resp) -> str:
    """Everything the caller hears in one TwiML document."""
    return "".join(parse_twiml(resp).itertext())


def verbs(resp) -> list[str]:
    return [el.tag for el in parse_twiml(resp)]


def dial_of(resp):
    dial = parse_twiml(resp).find("Dial")
    assert dial is not None, f"expected a <Dial>, got {verbs(resp)}"
    return dial


def dialled(resp) -> list[str]:
    return [n.text.strip() for n in dial_of(resp).findall("Number")]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def call_log(db, call) -> CallLog:
    db.expire_all()
    return db.scalar(select(CallLog).where(CallLog.call_sid == call.sid))


def only_order(db) -> Order:
    db.expire_all()
    orders = list(db.scalars(select(Order)))
    assert len(orders) == 1, f"expected one order, found {len(orders)}"
    return orders[0]


def silence(call, resp):
    """The caller says nothing: Twilio posts the Gather action without Digits (actionOnEmptyResult)."""
    return call.follow(resp)


def to_a_person(call):
    """Start a call and stay silent twice: the caller is sent to a person."""
    return silence(call, silence(call, call.post("/twilio/voice")))


def dial_ended(call, resp, status="no-answer", **params):
    """Twilio posts the Dial action when the tier's <Dial> ends."""
    sent = {"DialCallSid": "CA" + "d" * 32, "DialCallDuration": "0", **params}
    return call.follow(resp, DialCallStatus=status, **sent)


def screen_leg(tw, call, resp, phone):
    """The screened leg to `phone` of the parent call's <Dial>: Twilio fetches the <Number url>."""
    number = next(n for n in dial_of(resp).findall("Number") if n.text.strip() == phone)
    leg = tw.new_call(from_=call.from_, to=phone, direction="outbound-dial", ParentCallSid=call.sid)
    return leg, leg.post(path_of(number.get("url")))


@pytest.fixture
def tier1(db):
    """Two elderly-line officers on tier 1 now."""
    return [people.officer(db, "值班员甲", OFFICER_A), people.officer(db, "值班员乙", OFFICER_B)]


@pytest.fixture
def tier2(db):
    """One elderly-line officer on tier 2 now."""
    return people.officer(db, "值班长丙", OFFICER_C, tier=2)


@pytest.fixture
def resident(db):
    """王秀英, registered with a mobile and a landline."""
    return people.resident(db, phones=(people.RESIDENT_MOBILE, people.RESIDENT_LANDLINE))


# --- signatures -------------------------------------------------------------------------------------

CALL_PARAMS = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "1" * 32, "From": people.RESIDENT_MOBILE,
               "To": ELDERLY_NUMBER, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
CONFIRM_URL = MENU_PATH + "?node=confirm&category=housekeeping&silences=0&invalid=0&end=1"
ENDPOINTS = [
    ("/twilio/voice", {}),
    (CONFIRM_URL, {"Digits": "1"}),
    ("/twilio/voice/status", {"CallStatus": "completed", "CallDuration": "30"}),
    ("/twilio/voice/operator?tier=0&end=1", {}),
    ("/twilio/voice/operator/done?tier=0&end=1", {"DialCallStatus": "completed"}),
    ("/twilio/voice/screen?officer=1&line=elderly&end=1", {"ParentCallSid": "CA" + "1" * 32}),
    ("/twilio/voice/message", {"RecordingUrl": "https://api.twilio.com/rec/RE1", "RecordingSid": "RE" + "1" * 32}),
    ("/twilio/voice/screen/answer?officer=1&line=elderly&end=1", {"Digits": "1", "ParentCallSid": "CA" + "1" * 32}),
]


def _nothing_stored(db):
    assert count(db, CallLog) == 0
    assert count(db, Order) == 0
    assert count(db, Message) == 0


@pytest.mark.parametrize("path,extra", ENDPOINTS, ids=[p.split("?")[0] for p, _ in ENDPOINTS])
def test_unsigned_webhook_is_refused_and_nothing_is_stored(tw, db, resident, tier1, path, extra):
    resp = tw.post(path, {**CALL_PARAMS, **extra}, signed=False)
    assert resp.status_code == 403
    _nothing_stored(db)


@pytest.mark.parametrize("path,extra", ENDPOINTS, ids=[p.split("?")[0] for p, _ in ENDPOINTS])
def test_webhook_signed_with_another_token_is_refused_and_nothing_is_stored(tw, db, resident, tier1, path, extra):
    params = {**CALL_PARAMS, **extra}
    forged = RequestValidator("not-our-token").compute_signature(PUBLIC_BASE_URL + path, params)
    resp = tw.post(path, params, signature=forged)
    assert resp.status_code == 403
    _nothing_stored(db)


def test_garbage_signature_is_refused(tw, db, resident):
    resp = tw.post("/twilio/voice", CALL_PARAMS, signature="bm90IGEgc2lnbmF0dXJl")
    assert resp.status_code == 403
    _nothing_stored(db)


def test_signature_over_another_path_is_refused(tw, db, resident):
    signature = tw.signature_for("/twilio/sms", CALL_PARAMS)
    resp = tw.post("/twilio/voice", CALL_PARAMS, signature=signature)
    assert resp.status_code == 403
    _nothing_stored(db)


def test_signature_over_the_internal_host_instead_of_the_public_url_is_refused(tw, db, resident):
    internal = RequestValidator(AUTH_TOKEN).compute_signature("http://127.0.0.1:5000/twilio/voice", CALL_PARAMS)
    resp = tw.post("/twilio/voice", CALL_PARAMS, signature=internal)
    assert resp.status_code == 403
    _nothing_stored(db)


def test_menu_state_in_the_url_cannot_be_changed_without_breaking_the_signature(tw, db, resident):
    params = {**CALL_PARAMS, "Digits": "1"}
    signed_for_housekeeping = tw.signature_for(CONFIRM_URL, params)
    resp = tw.post(CONFIRM_URL.replace("housekeeping", "legal_aid"), params, signature=signed_for_housekeeping)
    assert resp.status_code == 403
    _nothing_stored(db)


def test_changed_form_parameter_breaks_the_signature_and_changes_nothing(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    confirm = call.follow(call.post("/twilio/voice"), Digits="2")
    action = path_of(parse_twiml(confirm).find("Gather").get("action"))
    params = {**call.base_params(), "Digits": "2"}
    resp = tw.post(action, {**params, "Digits": "1"}, signature=tw.signature_for(action, params))
    assert resp.status_code == 403
    assert count(db, Order) == 0
    assert call_log(db, call).path == "2"


def test_request_reaching_the_app_through_a_proxy_is_checked_against_the_public_url(client, tw, db, resident):
    signature = tw.signature_for("/twilio/voice", CALL_PARAMS)
    resp = client.post("/twilio/voice", data=CALL_PARAMS, headers={"X-Twilio-Signature": signature},
                       base_url="http://10.0.0.7:8000")
    assert resp.status_code == 200
    assert count(db, CallLog) == 1


# --- the greeting -----------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [people.RESIDENT_MOBILE, people.RESIDENT_LANDLINE], ids=["mobile", "landline"])
def test_known_caller_is_greeted_by_name_from_any_of_their_numbers(tw, db, resident, number):
    call = tw.new_call(from_=number, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    assert "王秀英您好" in says(resp)
    assert call_log(db, call).resident_id == resident.id


def test_unknown_caller_is_greeted_generically(tw, db, resident):
    call = tw.new_call(from_=UNKNOWN_CALLER, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    assert "您好，这里是巴林左旗养老服务热线" in says(resp)
    assert "王秀英" not in says(resp)
    assert call_log(db, call).resident_id is None


def test_greeting_is_slow_mandarin_in_a_named_voice_and_waits_for_one_key(tw, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    root = parse_twiml(call.post("/twilio/voice"))
    for say in root.iter("Say"):
        assert say.get("language") == "cmn-CN"
        assert say.get("voice")
        assert say.find("prosody").get("rate") == "slow"
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    assert int(gather.get("timeout")) >= 10
    assert path_of(gather.get("action")).startswith(MENU_PATH)
    assert "生活照料请按1" in "".join(gather.itertext())


# --- silence, invalid keys and 0 lead to a person -----------------------------------------------------

def test_first_silence_repeats_the_menu_with_the_short_re_greeting(tw, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = silence(call, call.post("/twilio/voice"))
    assert "请您选择服务" in says(resp)
    assert "王秀英您好" not in says(resp)
    assert parse_twiml(resp).find("Gather") is not None
    assert "Dial" not in verbs(resp)


def test_two_silences_ring_every_tier_1_officer_at_once_with_screening(tw, db, resident, tier1, tier2):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = to_a_person(call)
    dial = dial_of(resp)
    assert len(parse_twiml(resp).findall("Dial")) == 1
    assert sorted(dialled(resp)) == sorted([OFFICER_A, OFFICER_B])
    assert dial.get("answerOnBridge") == "true"
    assert int(dial.get("timeout")) <= 25
    assert dial.get("action")
    for number in dial.findall("Number"):
        assert urlsplit(number.get("url")).path == "/twilio/voice/screen"
    assert "正在为您转接工作人员" in says(resp)
    log = call_log(db, call)
    assert log.path == "__" and log.outcome == "to-person"


def test_three_invalid_keys_are_each_told_and_then_ring_the_officers(tw, db, resident, tier1):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    for _ in range(2):
        resp = call.follow(resp, Digits="9")
        assert "您按的键无效" in says(resp)
        assert parse_twiml(resp).find("Gather") is not None
    resp = call.follow(resp, Digits="9")
    assert "您按的键无效" in says(resp)
    assert sorted(dialled(resp)) == sorted([OFFICER_A, OFFICER_B])
    assert call_log(db, call).path == "???"


def test_star_repeats_the_menu(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.post("/twilio/voice"), Digits="*")
    assert "生活照料请按1" in says(resp)
    assert "无效" not in says(resp)


@pytest.mark.parametrize("keys", [["0"], ["3", "0"]], ids=["at-menu", "at-confirmation"])
def test_0_rings_the_officers_from_any_menu(tw, db, resident, tier1, keys):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    for key in keys:
        resp = call.follow(resp, Digits=key)
    assert sorted(dialled(resp)) == sorted([OFFICER_A, OFFICER_B])
    assert count(db, Order) == 0


# --- tiers, screening and messages ------------------------------------------------------------------

def test_dial_that_nobody_accepted_rings_tier_2_even_when_a_voicemail_box_completed_it(tw, db, resident, tier1, tier2):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = dial_ended(call, to_a_person(call), status="completed", DialCallDuration="14")
    assert dialled(resp) == [OFFICER_C]
    assert call_log(db, call).answered_by_id is None


def test_when_every_tier_was_rung_the_caller_is_asked_to_leave_a_message(tw, resident, tier1, tier2):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = dial_ended(call, dial_ended(call, to_a_person(call)), status="busy")
    root = parse_twiml(resp)
    record = root.find("Record")
    assert record is not None and root.find("Dial") is None
    assert urlsplit(record.get("action")).path == "/twilio/voice/message"
    assert int(record.get("maxLength")) > 0
    assert "请在提示音后留言" in says(resp)


def _leave_message(tw, call, recording="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"):
    resp = dial_ended(call, dial_ended(call, to_a_person(call)))
    return call.follow(resp, RecordingUrl=recording, RecordingSid="RE" + "2" * 32, RecordingDuration="21")


def test_a_left_message_is_kept_on_the_call_log(tw, db, resident, tier1, tier2, settings):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = _leave_message(tw, call, recording=recording_of(settings))
    assert "您的留言已收到" in says(resp)
    assert verbs(resp)[-1] == "Hangup"
    log = call_log(db, call)
    assert log.recording_url == recording_of(settings)
    assert log.outcome == "voicemail"


def test_a_left_message_alerts_every_officer_of_the_chain_by_sms(tw, db, resident, tier1, tier2, run_worker,
                                                                 fake_twilio):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    _leave_message(tw, call)
    db.expire_all()
    queued = list(db.scalars(select(Message)))
    assert sorted(m.to_phone for m in queued) == sorted([OFFICER_A, OFFICER_B, OFFICER_C])
    assert all(m.channel == "sms" for m in queued)
    run_worker()
    sent = fake_twilio.messages
    assert sorted(m["to"] for m in sent) == sorted([OFFICER_A, OFFICER_B, OFFICER_C])
    assert all("13904761234" in m["body"] for m in sent)


def test_a_retried_message_webhook_alerts_each_officer_once(tw, db, resident, tier1, run_worker, fake_twilio):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = dial_ended(call, to_a_person(call))
    params = dict(RecordingUrl="https://api.twilio.com/rec/RE5", RecordingSid="RE" + "5" * 32, RecordingDuration="9")
    call.follow(resp, **params)
    call.follow(resp, **params)
    assert count(db, Message) == 2
    run_worker()
    assert sorted(m["to"] for m in fake_twilio.messages) == sorted([OFFICER_A, OFFICER_B])


def test_screening_asks_the_officer_to_press_1_to_accept_and_hangs_up_otherwise(tw, resident, tier1):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    _, resp = screen_leg(tw, call, to_a_person(call), OFFICER_A)
    root = parse_twiml(resp)
    gather = root.find("Gather")
    assert "接听请按1" in "".join(gather.itertext())
    assert gather.get("numDigits") == "1"
    assert urlsplit(gather.get("action")).path == "/twilio/voice/screen/answer"
    assert verbs(resp)[-1] == "Hangup"  # silence (or a voicemail box) never bridges


def test_officer_pressing_1_is_recorded_as_answering_and_the_call_then_ends(tw, db, resident, tier1, tier2):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    dial = to_a_person(call)
    leg, screen = screen_leg(tw, call, dial, OFFICER_B)
    accepted = leg.follow(screen, Digits="1")
    assert "Hangup" not in verbs(accepted)
    log = call_log(db, call)
    assert log.answered_by_id == tier1[1].id
    after = dial_ended(call, dial, status="completed", DialCallDuration="95")
    assert verbs(after) == ["Hangup"]
    log = call_log(db, call)
    assert log.outcome == "answered" and log.answered_by_id == tier1[1].id


def test_officer_pressing_2_is_hung_up_and_not_recorded(tw, db, resident, tier1, tier2):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    dial = to_a_person(call)
    leg, screen = screen_leg(tw, call, dial, OFFICER_A)
    refused = leg.follow(screen, Digits="2")
    assert verbs(refused) == ["Hangup"]
    assert call_log(db, call).answered_by_id is None
    assert dialled(dial_ended(call, dial, status="completed")) == [OFFICER_C]


def test_second_officer_pressing_1_after_the_first_is_hung_up(tw, db, resident, tier1):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    dial = to_a_person(call)
    leg_a, screen_a = screen_leg(tw, call, dial, OFFICER_A)
    leg_b, screen_b = screen_leg(tw, call, dial, OFFICER_B)
    assert "Hangup" not in verbs(leg_a.follow(screen_a, Digits="1"))
    assert verbs(leg_b.follow(screen_b, Digits="1")) == ["Hangup"]
    assert call_log(db, call).answered_by_id == tier1[0].id


def test_acceptance_for_an_unknown_parent_call_is_hung_up(tw, db, resident, tier1):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    dial = to_a_person(call)
    leg, screen = screen_leg(tw, call, dial, OFFICER_A)
    leg.extra["ParentCallSid"] = "CA" + "0" * 32
    assert verbs(leg.follow(screen, Digits="1")) == ["Hangup"]
    assert call_log(db, call).answered_by_id is None


def test_with_nobody_on_the_rota_the_supervisors_are_rung(tw, db, resident):
    people.officer(db, "督导", SUPERVISOR, role="supervisor", line=None)
    people.officer(db, "下班了", OFFICER_A, hours=(-9, -1))
    people.officer(db, "儿童线", CHILD_OFFICER, line="child")
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    assert dialled(to_a_person(call)) == [SUPERVISOR]


def test_with_nobody_at_all_the_caller_goes_straight_to_a_message(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = to_a_person(call)
    assert "Dial" not in verbs(resp)
    assert parse_twiml(resp).find("Record") is not None


# --- orders -----------------------------------------------------------------------------------------

def test_emergency_key_commits_an_emergency_order_at_once_advises_120_then_rings_officers(tw, db, resident, tier1):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.post("/twilio/voice"), Digits="5")
    order = only_order(db)  # committed before anything else happens on the call
    assert order.category == "emergency" and order.status == "pending"
    assert order.resident_id == resident.id
    root = parse_twiml(resp)
    tags = [el.tag for el in root]
    advice = next(i for i, el in enumerate(root) if el.tag == "Say" and "120" in "".join(el.itertext()))
    assert advice < tags.index("Dial")
    assert sorted(dialled(resp)) == sorted([OFFICER_A, OFFICER_B])
    log = call_log(db, call)
    assert log.order_id == order.id and log.path == "5"


def test_emergency_order_is_kept_even_when_nobody_can_answer(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.post("/twilio/voice"), Digits="5")
    assert parse_twiml(resp).find("Record") is not None
    assert only_order(db).category == "emergency"


def test_unknown_caller_choosing_a_service_gets_an_unregistered_order_and_a_person(tw, db, tier1):
    call = tw.new_call(from_=UNKNOWN_CALLER, to=ELDERLY_NUMBER)
    resp = call.follow(call.follow(call.post("/twilio/voice"), Digits="3"), Digits="1")
    order = only_order(db)
    assert order.unregistered is True
    assert order.caller_phone == UNKNOWN_CALLER
    assert order.resident_id is None and order.category == "companionship"
    assert "您的号码还没有登记" in says(resp)
    assert sorted(dialled(resp)) == sorted([OFFICER_A, OFFICER_B])


def test_known_caller_order_is_registered_to_the_resident_and_the_number_they_called_from(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_LANDLINE, to=ELDERLY_NUMBER)
    call.follow(call.follow(call.post("/twilio/voice"), Digits="1"), Digits="1")
    order = only_order(db)
    assert order.unregistered is False and order.resident_id == resident.id
    assert order.caller_phone == people.RESIDENT_LANDLINE and order.category == "daily_care"


def test_order_code_is_six_digits_read_back_digit_by_digit(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.follow(call.post("/twilio/voice"), Digits="4"), Digits="1")
    code = only_order(db).code
    assert re.fullmatch(r"\d{6}", code)
    spoken = says(resp)
    assert spoken.count(" ".join(code)) == 2  # read, then read again
    assert code not in spoken.replace(" ".join(code), "")  # never as one big number
    assert "15分钟内上门" in spoken
    assert verbs(resp)[-1] == "Hangup"


def test_confirm_2_goes_back_to_the_menu_without_an_order(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.follow(call.follow(call.post("/twilio/voice"), Digits="2"), Digits="2")
    assert "生活照料请按1" in says(resp)
    assert count(db, Order) == 0


def test_a_retried_confirmation_webhook_gives_one_order_and_the_same_code(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    confirm = call.follow(call.post("/twilio/voice"), Digits="2")
    first = call.follow(confirm, Digits="1")
    again = call.follow(confirm, Digits="1")
    code = only_order(db).code
    assert " ".join(code) in says(first) and " ".join(code) in says(again)


def test_a_retried_first_webhook_keeps_one_call_log(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    call.post("/twilio/voice")
    assert count(db, CallLog) == 1


def test_a_key_whose_greeting_never_arrived_still_logs_the_call_with_its_keys(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.post(MENU_PATH + "?node=menu&category=&silences=0&invalid=0&path=&end=1", Digits="2")
    assert parse_twiml(resp).find("Gather") is not None
    log = call_log(db, call)
    assert (log.path, log.from_phone, log.resident_id) == ("2", people.RESIDENT_MOBILE, resident.id)


def test_a_confirmation_whose_greeting_never_arrived_still_makes_the_order_and_the_call_log(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    resp = call.post(MENU_PATH + "?node=confirm&category=housekeeping&silences=0&invalid=0&path=2&end=1", Digits="1")
    order = only_order(db)
    assert spoken_digits(order.code) in says(resp)
    assert (order.resident_id, order.category) == (resident.id, "housekeeping")
    log = call_log(db, call)
    assert (log.path, log.order_id, log.outcome) == ("21", order.id, "order")


def test_an_order_code_another_open_order_holds_is_drawn_again(tw, db, resident, monkeypatch):
    db.add(Order(code="111111", category="companionship", resident_id=resident.id, created_at=utcnow()))
    db.commit()
    draws = iter(["111111", "222222"])
    monkeypatch.setattr(call_store, "draw_code", lambda: next(draws))
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    done = call.follow(call.follow(call.post("/twilio/voice"), Digits="2"), Digits="1")
    db.expire_all()
    order = db.scalars(select(Order).where(Order.call_sid == call.sid)).one()
    assert order.code == "222222" and spoken_digits("222222") in says(done)
    assert call_log(db, call).order_id == order.id


def test_keys_travel_in_the_menu_url_and_a_repeated_key_webhook_records_them_once(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    greeting = call.post("/twilio/voice")
    first = call.follow(greeting, Digits="9")
    again = call.follow(greeting, Digits="9")  # Twilio delivering the same key twice
    assert first.get_data() == again.get_data()
    assert "path=%3F" in parse_twiml(first).find("Gather").get("action")
    assert call_log(db, call).path == "?"


def test_tampered_but_signed_menu_state_restarts_at_the_menu_without_an_order(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    resp = call.post(MENU_PATH + "?node=confirm&category=bogus&silences=0&invalid=0&end=1", Digits="1")
    assert parse_twiml(resp).find("Gather") is not None
    assert "服务单号" not in says(resp)
    assert count(db, Order) == 0


# --- call status ------------------------------------------------------------------------------------

def test_completed_status_callback_records_duration_and_end(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    resp = call.status("completed", CallDuration="42")
    assert resp.status_code == 200
    log = call_log(db, call)
    assert log.status == "completed" and log.duration_s == 42 and log.ended_at is not None


def test_late_ringing_callback_after_completed_changes_nothing(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    call.status("completed", CallDuration="42")
    before = call_log(db, call)
    snapshot = (before.status, before.duration_s, before.ended_at, before.outcome)
    assert call.status("ringing").status_code == 200
    assert call.status("in-progress").status_code == 200
    after = call_log(db, call)
    assert (after.status, after.duration_s, after.ended_at, after.outcome) == snapshot


def test_caller_hanging_up_at_the_menu_is_logged_as_hung_up(tw, db, resident):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    call.post("/twilio/voice")
    call.status("completed", CallDuration="7")
    assert call_log(db, call).outcome == "hung-up"


def test_status_callback_for_a_call_never_seen_is_still_logged(tw, db):
    call = tw.new_call(from_=UNKNOWN_CALLER, to=ELDERLY_NUMBER)
    assert call.status("completed", CallDuration="3").status_code == 200
    log = call_log(db, call)
    assert log is not None and log.status == "completed" and log.from_phone == UNKNOWN_CALLER
    assert log.ended_at is not None and log.duration_s == 3
    assert log.outcome == "hung-up"


# --- lines and numbers ------------------------------------------------------------------------------

def test_call_to_the_child_number_rings_the_child_line_and_never_creates_an_order(tw, db, resident, tier1):
    people.officer(db, "儿童线值班", CHILD_OFFICER, line="child")
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=CHILD_NUMBER)
    resp = call.post("/twilio/voice")
    assert "未成年人保护热线" in says(resp)
    assert parse_twiml(resp).find("Gather") is None
    assert dialled(resp) == [CHILD_OFFICER]
    _, screen = screen_leg(tw, call, resp, CHILD_OFFICER)
    assert "未成年人保护热线来电" in says(screen)
    message = dial_ended(call, resp)
    call.follow(message, RecordingUrl="https://api.twilio.com/rec/RE9", RecordingSid="RE" + "9" * 32)
    assert count(db, Order) == 0
    log = call_log(db, call)
    assert log.line == "child" and log.to_phone == CHILD_NUMBER and log.outcome == "voicemail"


@pytest.mark.parametrize("to", ["+15005550006", "+864768009999", "client:alice", ""])
def test_call_to_an_unknown_number_still_gets_the_elderly_menu(tw, db, resident, to):
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=to)
    resp = call.post("/twilio/voice")
    assert parse_twiml(resp).find("Gather") is not None
    assert call_log(db, call).line == "elderly"


def test_anonymous_caller_is_served(tw, db):
    call = tw.new_call(from_="anonymous", to=ELDERLY_NUMBER)
    resp = call.post("/twilio/voice")
    assert parse_twiml(resp).find("Gather") is not None
    assert call_log(db, call).resident_id is None


# --- every call is logged ---------------------------------------------------------------------------

def _ordered(tw, call):
    call.follow(call.follow(call.post("/twilio/voice"), Digits="2"), Digits="1")


def _answered(tw, call):
    dial = call.follow(call.post("/twilio/voice"), Digits="0")
    leg, screen = screen_leg(tw, call, dial, OFFICER_A)
    leg.follow(screen, Digits="1")
    dial_ended(call, dial, status="completed")


def _voicemail(tw, call):
    message = dial_ended(call, to_a_person(call))
    call.follow(message, RecordingUrl="https://api.twilio.com/rec/RE3", RecordingSid="RE" + "3" * 32)


def _hung_up(tw, call):
    call.post("/twilio/voice")


@pytest.mark.parametrize("walk,path,outcome", [
    (_ordered, "21", "order"),
    (_answered, "0", "answered"),
    (_voicemail, "__", "voicemail"),
    (_hung_up, "", "hung-up"),
], ids=["order", "answered", "voicemail", "hung-up"])
def test_every_call_leaves_a_call_log_with_from_to_line_path_and_outcome(tw, db, resident, walk, path, outcome):
    people.officer(db, "值班员甲", OFFICER_A)
    call = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
    walk(tw, call)
    call.status("completed", CallDuration="60")
    log = call_log(db, call)
    assert (log.from_phone, log.to_phone, log.line) == (people.RESIDENT_MOBILE, ELDERLY_NUMBER, "elderly")
    assert log.path == path
    assert log.outcome == outcome
    assert log.ended_at is not None and log.duration_s == 60
