"""Helpers for the child-protection line's tests: its rota, walking a call, reading TwiML and the case."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hotline.registry.importer import import_csv
from models import Case
from tests import people
from tests.conftest import CHILD_NUMBER
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
