"""Child-line alerts acknowledged by pressing 1 on a supervisor's alert call, signed for its one case."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from models import Case
from tests.conftest import ELDERLY_NUMBER
from tests.dispatch.case_alert_helpers import SECOND_CALLER, chain, settings, sms, snapshot  # noqa: F401 - fixtures
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import RECORDING_SID, SUPERVISOR, TIER2, case_of, path_of, voicemail_call


def supervisor_call(tw, run_worker, fake_twilio) -> dict:
    """The supervisor's alert call for a voicemail, with ALERT_MAX_REPEATS 0 (a call from the first round on)."""
    voicemail_call(tw)
    run_worker()
    assert len(fake_twilio.calls) == 1
    return fake_twilio.calls[0]


@pytest.mark.parametrize("settings", [{"alert_max_repeats": 0}], indirect=True, ids=["max-0"])
def test_supervisor_call_reads_the_case_and_gathers_1_for_the_ack_url(tw, db, chain, run_worker, fake_twilio):
    placed = supervisor_call(tw, run_worker, fake_twilio)
    case = db.scalar(select(Case))
    gather = ET.fromstring(placed["twiml"]).find("Gather")
    assert gather.get("numDigits") == "1"
    action = urlsplit(gather.get("action"))
    assert action.path == "/twilio/voice/ack"
    assert action.query == f"case={case.code}&officer={chain['sup'].id}&end=1"
    spoken = "".join(gather.itertext())
    assert " ".join(case.code) in spoken and "按1" in spoken
    assert RECORDING_SID not in placed["twiml"]


@pytest.mark.parametrize("settings", [{"alert_max_repeats": 0}], indirect=True, ids=["max-0"])
def test_supervisor_pressing_1_on_the_alert_call_acknowledges_the_case(tw, db, chain, run_worker, fake_twilio):
    placed = supervisor_call(tw, run_worker, fake_twilio)
    action = ack_action(placed)
    leg = tw.new_call(from_=placed["from_"], to=SUPERVISOR, direction="outbound-api")
    resp = leg.post(action, Digits="1")
    assert "已确认" in "".join(parse_twiml(resp).itertext())
    db.expire_all()
    case = db.scalar(select(Case))
    assert case.status == "acknowledged" and case.acknowledged_by_id == chain["sup"].id
    assert case.events[-1].kind == "acknowledged" and "voice" in case.events[-1].detail


def ack_action(placed: dict) -> str:
    return path_of(ET.fromstring(placed["twiml"]).find("Gather").get("action"))


def ack_path(case: Case, officer) -> str:
    return f"/twilio/voice/ack?case={case.code}&officer={officer.id}&end=1"


@pytest.mark.parametrize("digits", [{"Digits": "2"}, {}], ids=["2", "silence"])
def test_supervisor_pressing_anything_but_1_does_not_acknowledge(tw, db, chain, digits):
    call = voicemail_call(tw)
    before = snapshot(db, call)
    leg = tw.new_call(from_=ELDERLY_NUMBER, to=SUPERVISOR, direction="outbound-api")
    assert "Hangup" in [el.tag for el in parse_twiml(leg.post(ack_path(case_of(db, call), chain["sup"]), **digits))]
    assert snapshot(db, call) == before


def test_unsigned_ack_call_is_refused_and_changes_nothing(tw, db, chain):
    call = voicemail_call(tw)
    before = snapshot(db, call)
    resp = tw.post(ack_path(case_of(db, call), chain["sup"]),
                   {"CallSid": "CA" + "5" * 32, "From": ELDERLY_NUMBER, "To": SUPERVISOR, "Digits": "1"}, signed=False)
    assert resp.status_code == 403
    assert snapshot(db, call) == before


def test_ack_call_for_another_case_than_it_was_signed_for_is_refused(tw, db, chain):
    first, second = voicemail_call(tw), voicemail_call(tw, SECOND_CALLER)
    params = {"CallSid": "CA" + "5" * 32, "From": ELDERLY_NUMBER, "To": SUPERVISOR, "Digits": "1"}
    signature = tw.signature_for(ack_path(case_of(db, first), chain["sup"]), params)
    resp = tw.post(ack_path(case_of(db, second), chain["sup"]), params, signature=signature)
    assert resp.status_code == 403
    assert case_of(db, second).status == "voicemail" and case_of(db, first).status == "voicemail"


def test_voice_ack_after_an_sms_ack_keeps_the_first_acknowledgement(tw, db, chain):
    call = voicemail_call(tw)
    code = case_of(db, call).code
    sms(tw, TIER2, f"ACK {code}")
    leg = tw.new_call(from_=ELDERLY_NUMBER, to=SUPERVISOR, direction="outbound-api")
    leg.post(ack_path(case_of(db, call), chain["sup"]), Digits="1")
    case = case_of(db, call)
    assert case.acknowledged_by_id == chain["c"].id
    assert [e.kind for e in case.events].count("acknowledged") == 1
