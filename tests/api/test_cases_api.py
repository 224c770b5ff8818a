"""The child-line cases API: the token, newest first, every read in the access log; and nothing private in logs."""
from __future__ import annotations

import logging
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from models import AccessLog, utcnow
from models.phone import mask
from tests.conftest import ELDERLY_NUMBER
from tests.webhooks.child_calls import (
    CALLER,
    RECORDING_SID,
    SUPERVISOR,
    TIER1_A,
    TIER1_B,
    TIER2,
    TIER3,
    case_of,
    child_call,
    missed_call,
    recording_of,
    screen_leg,
    staff,
    voicemail_call,
)

SECOND_CALLER = "+8613904760000"
THIRD_CALLER = "+8613904769999"
UNMASKED_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# Random identifiers (RQ job UUIDs, Twilio SIDs) may hold 11-digit runs by chance: not phone numbers.
RANDOM_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                        r"|[A-Z]{2}[0-9a-f]{32}|[0-9a-f]{32}")


@pytest.fixture
def chain(db):
    return staff(db)


def access_rows(db) -> list[AccessLog]:
    db.expire_all()
    return list(db.scalars(select(AccessLog).order_by(AccessLog.id)))


def access_count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count(AccessLog.id)))


# --- the token ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}], ids=["none", "wrong"])
@pytest.mark.parametrize("path", ["/api/cases", "/api/cases/{code}"], ids=["list", "detail"])
def test_cases_need_the_api_token(client, db, tw, chain, headers, path):
    code = case_of(db, voicemail_call(tw)).code
    resp = client.get(path.format(code=code), headers=headers)
    assert resp.status_code == 401
    assert CALLER not in resp.get_data(as_text=True) and code not in resp.get_data(as_text=True)


def test_refused_read_writes_no_access_log(client, db, tw, chain):
    code = case_of(db, voicemail_call(tw)).code
    client.get("/api/cases")
    client.get(f"/api/cases/{code}")
    assert access_count(db) == 0


def test_unknown_case_is_404(api, tw, chain):
    voicemail_call(tw)
    resp = api("/api/cases/000000x")
    assert resp.status_code == 404


# --- what a case shows ------------------------------------------------------------------------------------

def test_cases_are_listed_newest_first(api, tw, db, chain):
    calls = [voicemail_call(tw), missed_call(tw, SECOND_CALLER), child_call(tw, THIRD_CALLER)]
    calls[2].post("/twilio/voice")
    listed = api("/api/cases").get_json()["cases"]
    assert [c["code"] for c in listed] == [case_of(db, c).code for c in reversed(calls)]
    assert [c["status"] for c in listed] == ["ringing", "missed", "voicemail"]
    stamps = [datetime.fromisoformat(c["created_at"]) for c in listed]
    assert stamps == sorted(stamps, reverse=True)


def test_case_detail_has_every_field_of_the_case(api, tw, db, chain):
    code = case_of(db, voicemail_call(tw)).code
    body = api(f"/api/cases/{code}").get_json()
    assert {"code", "status", "caller", "created_at", "answered_by", "acknowledged_by", "recording_url",
            "events"} <= set(body)
    # The caller's number is masked as everywhere outside the console's reveal (and an admin's export).
    assert (body["code"], body["status"], body["caller"]) == (code, "voicemail", mask(CALLER))
    assert body["answered_by"] is None and body["acknowledged_by"] is None
    assert datetime.fromisoformat(body["created_at"]) <= utcnow()


def test_recording_url_is_in_the_case_detail(api, tw, db, chain, settings):
    code = case_of(db, voicemail_call(tw)).code
    assert api(f"/api/cases/{code}").get_json()["recording_url"] == recording_of(settings)


def test_recording_url_is_in_the_list(api, tw, chain, settings):
    voicemail_call(tw)
    assert api("/api/cases").get_json()["cases"][0]["recording_url"] == recording_of(settings)


def test_case_events_list_every_ring_and_the_message(api, tw, db, chain):
    code = case_of(db, voicemail_call(tw)).code
    kinds = [e["kind"] for e in api(f"/api/cases/{code}").get_json()["events"]]
    assert kinds[:1] == ["call"] and kinds.count("ring") == 3 and kinds.count("no-answer") == 3
    assert "voicemail" in kinds


def test_answered_case_shows_the_officer_who_pressed_1(api, tw, db, chain):
    call = child_call(tw)
    leg, screen = screen_leg(tw, call, call.post("/twilio/voice"), TIER1_B)
    leg.follow(screen, Digits="1")
    body = api(f"/api/cases/{case_of(db, call).code}").get_json()
    assert body["status"] == "answered"
    assert body["answered_by"] == {"name": "一线乙", "phone": TIER1_B}


def test_acknowledged_case_shows_who_acknowledged(api, tw, db, chain):
    call = voicemail_call(tw)
    code = case_of(db, call).code
    tw.sms(from_=TIER2, to=ELDERLY_NUMBER, body=f"ACK {code}")
    body = api(f"/api/cases/{code}").get_json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == {"name": "二线丙", "phone": TIER2}


# --- the access log ------------------------------------------------------------------------------------------

def test_reading_a_case_writes_an_access_log_row(api, tw, db, chain):
    case = case_of(db, voicemail_call(tw))
    before = utcnow()
    api(f"/api/cases/{case.code}")
    rows = access_rows(db)
    assert len(rows) == 1
    row = rows[0]
    assert (row.case_id, row.route, row.actor) == (case.id, f"/api/cases/{case.code}", "api-token")
    assert before <= row.at <= utcnow()


def test_every_read_writes_its_own_access_log_row(api, tw, db, chain):
    code = case_of(db, voicemail_call(tw)).code
    for _ in range(3):
        api(f"/api/cases/{code}")
    assert access_count(db) == 3


def test_listing_writes_one_access_log_row_per_listed_case(api, tw, db, chain):
    calls = [voicemail_call(tw), missed_call(tw, SECOND_CALLER)]
    api("/api/cases")
    rows = access_rows(db)
    assert sorted(r.case_id for r in rows) == sorted(case_of(db, c).id for c in calls)
    assert {r.route for r in rows} == {"/api/cases"} and {r.actor for r in rows} == {"api-token"}


def test_listing_with_a_limit_logs_only_the_cases_shown(api, tw, db, chain):
    voicemail_call(tw)
    newest = missed_call(tw, SECOND_CALLER)
    assert len(api("/api/cases?limit=1").get_json()["cases"]) == 1
    assert [r.case_id for r in access_rows(db)] == [case_of(db, newest).id]


def test_unknown_case_writes_no_access_log(api, tw, db, chain):
    voicemail_call(tw)
    api("/api/cases/999999x")
    assert access_count(db) == 0


# --- privacy in the logs -----------------------------------------------------------------------------------

def test_logs_of_a_whole_case_show_no_phone_number_and_no_recording_url(tw, db, api, chain, run_worker, caplog):
    caplog.set_level(logging.DEBUG)
    call = voicemail_call(tw)  # the call, every tier, the message
    missed_call(tw, SECOND_CALLER)
    run_worker()  # the alert SMS
    code = case_of(db, call).code
    tw.sms(from_=TIER1_A, to=ELDERLY_NUMBER, body=f"收到 {code}")  # the acknowledgement
    tw.sms(from_="+8613911112222", to=ELDERLY_NUMBER, body=f"ACK {code}")  # a stranger
    api("/api/cases")
    api(f"/api/cases/{code}")
    records = caplog.records
    assert any("alert round" in r.getMessage() for r in records)  # the scenario was logged at all
    numbers = [CALLER, SECOND_CALLER, TIER1_A, TIER1_B, TIER2, TIER3, SUPERVISOR, "+8613911112222"]
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        assert not UNMASKED_MOBILE.search(RANDOM_IDS.sub("", text)), text
        for number in numbers:
            assert number[3:] not in text, text  # neither E.164 nor national form
        assert RECORDING_SID not in text and "/Recordings/" not in text, text


@pytest.mark.parametrize("path", ["/api/cases?status=%00", "/api/cases/%00", "/api/orders?status=a%00b",
                                  "/api/orders/%001"])
def test_a_nul_in_an_api_query_or_path_is_400_not_a_database_error(api, path):
    # PostgreSQL refuses NUL in text: without the guard this reached the database and came back as a 503.
    assert api(path).status_code == 400
