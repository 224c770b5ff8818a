"""Helpers shared by the elderly line's voice-webhook tests: reading TwiML, walking a call, the rota."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from models import CallLog
from tests import people
from tests.twilio_client import parse_twiml

UNKNOWN_CALLER = "+8613700001111"
OFFICER_A, OFFICER_B, OFFICER_C = "+8613800001001", "+8613800001002", "+8613800001003"
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
