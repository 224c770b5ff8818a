"""No personal data in logs (issue 4, property 9): a full scenario, every log record, no phone number.

Captured: every record of every logger at DEBUG (the app, dispatch, the worker, RQ, twilio.http_client and
the fake Twilio's own server), with its exception text, over a day of the hotline: elderly calls from a
mobile and a landline, offers by the worker, a technician accepting, arriving and finishing by SMS, the
resident told by SMS and by a spoken call, an offer declined and the order escalated to the officers on
duty, Twilio answering 429 and "invalid number", child-line calls ending in a message (with its recording
URL) and in a hang-up, alerts, an acknowledgement by SMS, an unknown sender, a call to an unconfigured
number, forged and repeated webhooks, a CSV import with bad rows, and `flask outbox`.

Checked: no Chinese mobile (1[3-9] + 9 digits, also after +86/86) or fixed-line number (0 + area code +
7-8 digits) in any record once Twilio SIDs, UUIDs and long hex ids are set aside; none of the scenario's
exact numbers in any spelling (E.164, without +, national, with dashes or spaces); no recording URL.
The import's error messages and `flask outbox`'s recipient column are held to the same rule.
"""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from models import Case, Order
from models.phone import national
from tests import people
from tests.conftest import CHILD_NUMBER, ELDERLY_NUMBER
from tests.orders import HOUSEKEEPING, only_order
from tests.twilio_client import parse_twiml
from tests.webhooks.child_calls import (
    FOREIGN_RECORDING,
    RECORDING_SID,
    child_call,
    leave_message,
    recording_of,
    ring_out,
)

T1, T2 = "+8613800000001", "+8613800000002"          # technicians
DUTY, DUTY2 = "+8613700000001", "+8613700000002"     # elderly-line officers, tiers 1 and 2
CHILD_DUTY, SUPERVISOR = "+8613800002001", "+8613800009001"
CHILD_CALLER, MISSED_CALLER = "+8613904769876", "+8615004761111"
STRANGER, UNREGISTERED = "+8615904761111", "+8613700001111"
LANDLINE_CALLER = people.RESIDENT_LANDLINE          # +864768223344, 0476-8223344
BAD_NUMBER = "+8613600000009"                       # Twilio will call it invalid
CSV_PHONES = ("15047682201", "13904760011")         # in the import file, one of them on a bad row
PERSONAL = [people.RESIDENT_MOBILE, LANDLINE_CALLER, T1, T2, DUTY, DUTY2, CHILD_DUTY, SUPERVISOR, CHILD_CALLER,
            MISSED_CALLER, STRANGER, UNREGISTERED, BAD_NUMBER] + ["+86" + p for p in CSV_PHONES]
SERVICE = [ELDERLY_NUMBER, CHILD_NUMBER]  # the hotline's own published numbers are not personal data

# Ids that are long runs of hex or digits but are no phone numbers: Twilio SIDs, UUIDs (RQ jobs), hex ids.
_IDS = re.compile(r"\b[A-Z]{2}[0-9a-fA-F]{32}\b"  # Twilio SIDs and request ids: SM…, CA…, RE…, RQ…
                  r"|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
                  r"|\b[0-9a-fA-F]{16,}\b")
MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d{9}(?!\d)")
FIXED = re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)")


def spellings(e164: str) -> set[str]:
    """A number as it could appear in a log: E.164, without +, national, with separators."""
    nat = national(e164)
    forms = {e164, e164.lstrip("+"), nat}
    if nat.startswith("1") and len(nat) == 11:
        forms |= {f"{nat[:3]} {nat[3:7]} {nat[7:]}", f"{nat[:3]}-{nat[3:7]}-{nat[7:]}"}
    elif nat.startswith("0"):
        forms |= {f"{nat[:4]}-{nat[4:]}", nat[1:], f"{nat[:4]} {nat[4:]}"}
    return forms


def leaks(text: str) -> list[str]:
    """Unmasked phone numbers and recording URLs in one piece of log text."""
    for own in SERVICE:
        for form in spellings(own):
            text = text.replace(form, "<hotline>")
    scrubbed = _IDS.sub("<id>", text)
    found = [f"exact {form}" for number in PERSONAL for form in spellings(number) if form in scrubbed]
    found += [f"mobile {m}" for m in MOBILE.findall(scrubbed)] + [f"fixed {m}" for m in FIXED.findall(scrubbed)]
    if RECORDING_SID in text or "/Recordings/" in text or re.search(r"\bRE[0-9a-f]{32}\b", text):
        found.append("recording URL or SID")
    return found


def test_leaks_finds_what_it_must_and_ignores_ids():
    """The checker itself: each spelling of a number is caught; SIDs, UUIDs and masked numbers are not."""
    for text in ("call from +8613904761234", "to 13904761234.", "电话0476-8223344", "固话 0476 8223344",
                 "8613904769876", "139 0476 1234", "+86 150 4768 2201", FOREIGN_RECORDING):
        assert leaks(text), text
    for text in ("SM" + "1" * 32, "CA13904761234000000000000000000ab", "RQ51dccd87d0701805781ee63a9f3936ea",
                 "3f2b8c1e-1390-4761-2345-139047612345",
                 "+86****1234", "86****3344", "order 139047 code", "call to <hotline> +864768000001"):
        assert not leaks(text), (text, leaks(text))


def _walk_elderly_call(tw, phone: str, keys=HOUSEKEEPING, to: str = ELDERLY_NUMBER):
    call = tw.new_call(from_=phone, to=to)
    resp = call.post("/twilio/voice")
    for key in keys:
        resp = call.follow(resp, Digits=key)
    call.status("completed", CallDuration="42")
    return call


@pytest.fixture
def registry(db):
    people.resident(db)  # 王秀英 on RESIDENT_MOBILE
    people.resident(db, name="李桂兰", phones=(LANDLINE_CALLER,), address="林东镇团结社区8号楼101")
    people.technician(db, "张师傅", T1, km_north=0.5, skills="housekeeping;daily_care")
    people.technician(db, "李师傅", T2, km_north=1.0, skills="emergency")
    people.officer(db, "值班员", DUTY)
    people.officer(db, "二线", DUTY2, tier=2)
    people.officer(db, "一线甲", CHILD_DUTY, line="child", tier=1)
    people.officer(db, "督导戊", SUPERVISOR, role="supervisor", line=None)
    people.officer(db, "空号", BAD_NUMBER, line="child", tier=2)


def test_a_full_day_of_the_hotline_logs_no_phone_number_and_no_recording_url(
        caplog, registry, app, db, tw, client, run_worker, fake_twilio, runner, tmp_path):
    caplog.set_level(logging.DEBUG)
    for name in ("twilio", "twilio.http_client", "rq", "rq.worker", "werkzeug", "hotline", "dispatch", "worker"):
        caplog.set_level(logging.DEBUG, logger=name)
    fake_twilio.set_number_behaviour(BAD_NUMBER, "invalid")
    outputs: dict[str, str] = {}

    # Elderly line: a mobile caller's order, offered, accepted, the resident told by SMS, arrival, done.
    _walk_elderly_call(tw, people.RESIDENT_MOBILE)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="接单")
    fake_twilio.fail_next(1, status=429, code=20429)  # Twilio's rate limit on the notification: retried
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="到达")
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="完成")
    assert only_order(db).status == "completed"

    # A landline caller: the resident is told by a spoken call.
    _walk_elderly_call(tw, LANDLINE_CALLER)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="1")
    run_worker()
    assert any(c["to"] == LANDLINE_CALLER for c in fake_twilio.calls)
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="完成")

    # Declined, nobody else can take it: escalated, the officers on duty alerted.
    _walk_elderly_call(tw, people.RESIDENT_MOBILE)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="拒绝")
    run_worker()
    db.expire_all()
    assert "escalated" in [o.status for o in db.scalars(select(Order))]
    assert any(m["to"] == DUTY for m in fake_twilio.messages)

    # An unregistered caller asking for a person, a call to an unconfigured number, a stranger's SMS.
    _walk_elderly_call(tw, UNREGISTERED, keys=("0",))
    _walk_elderly_call(tw, STRANGER, keys=(), to="+8613512345678")
    tw.sms(from_=STRANGER, to=ELDERLY_NUMBER, body="你好，我的电话是13904761234")

    # Child line: a message with its recording, alerts (one officer's number invalid at Twilio), ACK by SMS.
    call = child_call(tw, CHILD_CALLER)
    leave_message(call, ring_out(call, call.post("/twilio/voice")))
    call.status("completed", CallDuration="75")
    run_worker()
    case = db.scalar(select(Case).where(Case.call_sid == call.sid))
    assert case.recording_url == recording_of(app.extensions["hotline"].settings)
    ack = tw.sms(from_=CHILD_DUTY, to=CHILD_NUMBER, body=f"收到 {case.code}")
    assert case.code in "".join(parse_twiml(ack).itertext())
    # A child who hangs up while tier 1 rings.
    missed = child_call(tw, MISSED_CALLER)
    missed.post("/twilio/voice")
    missed.status("completed", CallDuration="6")
    run_worker()

    # Forged and repeated webhooks.
    tw.post("/twilio/sms", {"From": STRANGER, "To": ELDERLY_NUMBER, "Body": "接单"}, signed=False)
    repeat = {"MessageSid": "SM" + "9" * 32, "From": T2, "To": ELDERLY_NUMBER, "Body": "?"}
    for _ in range(2):
        tw.post("/twilio/sms", repeat, headers={"I-Twilio-Idempotency-Token": "same"})
    tw.post("/twilio/fallback", {"CallSid": "CA" + "8" * 32, "From": CHILD_CALLER, "To": CHILD_NUMBER})

    # A registry import with bad rows, and the outbox listing.
    csv_file = tmp_path / "residents.csv"
    csv_file.write_text(f"name,phone\n刘振海,{CSV_PHONES[0]}\n赵德明,{CSV_PHONES[1][:9]}\n孙丽,{CSV_PHONES[1]};"
                        f"{CSV_PHONES[0]}\n钱七,1.39E+10\n", encoding="utf-8")
    imported = runner.invoke(args=["import-csv", "residents", str(csv_file)])
    assert imported.exit_code == 1
    outputs["import-csv"] = imported.output + (getattr(imported, "stderr", "") or "")
    listing = runner.invoke(args=["outbox", "--limit", "200"])
    assert listing.exit_code == 0, listing.output
    outputs["outbox"] = listing.output

    # --- the checks ---------------------------------------------------------------------------------
    records = caplog.records
    assert len(records) > 50 and {r.name for r in records} >= {"hotline.webhooks.calls", "dispatch.outbox", "rq.worker"}
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    found = {}
    for record in records:
        text = formatter.format(record)  # the message with its arguments, and any traceback
        if leaks(text):
            found.setdefault(record.name, []).append((text[:300], leaks(text)))
    assert not found, f"personal data in the logs: {found}"

    assert "import failed" in outputs["import-csv"] or "导入失败" in outputs["import-csv"]
    assert not leaks(outputs["import-csv"]), outputs["import-csv"]
    recipients = []
    for line in outputs["outbox"].splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[2] in ("sms", "call"):
            recipients.append(fields[4])
    assert recipients and all("****" in to for to in recipients), recipients
