"""The console's case list and case detail: masked caller, timeline, recording through the console, filters."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from models import Case, Message
from tests.console.case_pages import MASKED_CALLER, access_rows, ack, chain, make_case, officer, settings  # noqa: F401 - fixtures
from tests.webhooks.child_calls import (
    CALLER,
    FOREIGN_RECORDING,
    case_of,
    child_call,
    leave_message,
    ring_out,
    voicemail_call,
)

# --- the list ---------------------------------------------------------------------------------------------

def test_list_shows_cases_newest_first_with_the_caller_masked(officer, db):
    make_case(db, "111111", minutes_ago=30)
    make_case(db, "222222", minutes_ago=5)
    html = officer.get("/console/cases/").get_data(as_text=True)
    assert html.index('data-case-code="222222"') < html.index('data-case-code="111111"')
    assert MASKED_CALLER in html and CALLER not in html and "13904761234" not in html


def test_list_writes_one_list_row_per_case_shown(officer, db):
    first, second = make_case(db, "111111"), make_case(db, "222222")
    officer.get("/console/cases/")
    rows = access_rows(db)
    assert sorted(r.case_id for r in rows) == sorted([first.id, second.id])
    assert {(r.actor, r.action, r.route) for r in rows} == {("zhang", "list", "/console/cases/")}


def test_list_filters_by_status_and_logs_only_the_cases_shown(officer, db):
    make_case(db, "111111", status="voicemail")
    closed = make_case(db, "222222", status="closed")
    html = officer.get("/console/cases/?status=closed").get_data(as_text=True)
    assert 'data-case-code="222222"' in html and 'data-case-code="111111"' not in html
    assert [r.case_id for r in access_rows(db)] == [closed.id]


def test_list_shows_minutes_to_acknowledgement(officer, db):
    case = make_case(db, "111111", status="acknowledged", minutes_ago=12)
    case.acknowledged_at = case.created_at + timedelta(minutes=7, seconds=30)
    db.commit()
    html = officer.get("/console/cases/").get_data(as_text=True)
    assert '<td class="ack-minutes">7.5</td>' in html


# --- the detail -------------------------------------------------------------------------------------------

def test_detail_shows_the_masked_caller_timeline_recording_and_alerts_sent(officer, db, tw, chain):
    code = case_of(db, voicemail_call(tw)).code
    html = officer.get(f"/console/cases/{code}").get_data(as_text=True)
    assert 'id="case-detail"' in html and f'<span id="caller-masked">{MASKED_CALLER}</span>' in html
    assert "13904761234" not in html  # not even inside the alert SMS texts
    # This account's recording: played through the console, its URL never in the page.
    assert f'src="/console/cases/{code}/recording.mp3"' in html and "/Recordings/" not in html
    assert 'data-kind="voicemail"' in html and 'data-kind="alert"' in html
    case_id = db.scalar(select(Case.id).where(Case.code == code))
    sent = db.scalar(select(func.count(Message.id)).where(Message.case_id == case_id))
    assert sent == 5 and html.count('<tr data-channel="sms">') == sent  # the chain and the supervisor


def test_detail_without_a_recording_says_so(officer, db):
    make_case(db, "123456", status="missed")
    html = officer.get("/console/cases/123456").get_data(as_text=True)
    assert 'id="case-no-recording"' in html and "<audio" not in html


def _recorded_case(tw, fake_twilio, audio: bytes = b"ID3-a-caller's-message"):
    url = fake_twilio.add_recording(audio)
    call = child_call(tw, CALLER)
    leave_message(call, ring_out(call, call.post("/twilio/voice")), url=url)
    return call


def test_the_recording_plays_through_the_console_with_the_accounts_credentials(officer, db, tw, chain,
                                                                              fake_twilio):
    code = case_of(db, _recorded_case(tw, fake_twilio)).code
    html = officer.get(f"/console/cases/{code}").get_data(as_text=True)
    assert f'<audio controls preload="none" src="/console/cases/{code}/recording.mp3"' in html
    resp = officer.get(f"/console/cases/{code}/recording.mp3")
    assert resp.status_code == 200 and resp.mimetype == "audio/mpeg"
    assert resp.data == b"ID3-a-caller's-message" and "no-store" in resp.headers["Cache-Control"]
    fetched = [r for r in fake_twilio.requests if "/Recordings/" in r["path"]]
    assert [r["auth_ok"] for r in fetched] == [True]
    assert [row.action for row in access_rows(db)] == ["read", "listen"]


def test_a_recording_url_outside_the_account_is_never_fetched(officer, db, tw, chain, fake_twilio):
    case = case_of(db, voicemail_call(tw))
    case.recording_url = FOREIGN_RECORDING  # kept before webhooks refused foreign RecordingUrls
    db.commit()
    code = case.code
    assert officer.get(f"/console/cases/{code}/recording.mp3").status_code == 404
    assert not [r for r in fake_twilio.requests if "/Recordings/" in r["path"]]
    assert [row.action for row in access_rows(db)] == []


def test_a_dispatcher_cannot_fetch_a_recording(staff, db, tw, chain, fake_twilio):
    code = case_of(db, _recorded_case(tw, fake_twilio)).code
    assert staff.login("dispatcher").get(f"/console/cases/{code}/recording.mp3").status_code == 403
    assert not [r for r in fake_twilio.requests if "/Recordings/" in r["path"]]
