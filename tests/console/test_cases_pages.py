"""Child-line cases in the console: duty officers only, every view access-logged, reveal with a reason,
acknowledge (alerts stop as with an officer's SMS), close with a note."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import AccessLog, Case, Message, case_event, utcnow
from tests.conftest import ELDERLY_NUMBER
from tests.orders import answer
from tests.webhooks.child_calls import (
    CALLER,
    FOREIGN_RECORDING,
    TIER1_A,
    case_of,
    child_call,
    leave_message,
    ring_out,
    staff as child_line_chain,
    voicemail_call,
)

MASKED_CALLER = "+86****1234"


@pytest.fixture
def settings(settings):
    """Alert rounds one second apart, so a test can see whether the next round goes out."""
    return settings.with_overrides(alert_repeat_seconds=1, alert_max_repeats=2)


@pytest.fixture
def chain(db):
    return child_line_chain(db)


@pytest.fixture
def officer(staff):
    return staff.login("duty_officer", "zhang")


def make_case(db, code: str, status: str = "answered", caller: str = CALLER, minutes_ago: int = 0) -> Case:
    case = Case(code=code, status=status, caller=caller, call_sid="CA" + code.rjust(32, "0"),
                created_at=utcnow() - timedelta(minutes=minutes_ago))
    db.add(case)
    case_event(db, case, "call", "incoming call")
    db.commit()
    return case


def access_rows(db, **where) -> list[AccessLog]:
    db.expire_all()
    query = select(AccessLog).order_by(AccessLog.id)
    for column, value in where.items():
        query = query.where(getattr(AccessLog, column) == value)
    return list(db.scalars(query))


def fresh(db, code: str) -> Case:
    db.expire_all()
    return db.scalar(select(Case).where(Case.code == code))


# --- who may look -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/console/cases/", "/console/cases/123456"], ids=["list", "detail"])
def test_dispatcher_is_refused_cases_and_no_access_log_row_is_written(staff, db, path):
    make_case(db, "123456")
    resp = staff.login("dispatcher").get(path)
    assert resp.status_code == 403
    assert CALLER not in resp.get_data(as_text=True) and MASKED_CALLER not in resp.get_data(as_text=True)
    assert access_rows(db) == []


def test_not_logged_in_is_sent_to_the_login_page_and_nothing_is_logged(client, db):
    make_case(db, "123456")
    resp = client.get("/console/cases/123456")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]
    assert access_rows(db) == []


def test_duty_officers_view_of_a_case_writes_an_access_log_row(officer, db):
    case = make_case(db, "123456")
    assert officer.get("/console/cases/123456").status_code == 200
    [row] = access_rows(db)
    assert (row.actor, row.case_id, row.route, row.action) == ("zhang", case.id, "/console/cases/123456", "read")
    assert row.remote_addr == "127.0.0.1"


def test_admin_may_view_a_case_and_is_logged_too(staff, db):
    make_case(db, "123456")
    assert staff.login("admin", "root").get("/console/cases/123456").status_code == 200
    assert [(r.actor, r.action) for r in access_rows(db)] == [("root", "read")]


def test_unknown_case_is_404_and_logs_nothing(officer, db):
    make_case(db, "123456")
    assert officer.get("/console/cases/654321").status_code == 404
    assert access_rows(db) == []


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


# --- reveal -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_reveal_without_a_reason_reveals_nothing_and_logs_no_reveal(officer, db, reason):
    make_case(db, "123456")
    resp = officer.post("/console/cases/123456/reveal", data={"reason": reason, "csrf_token": officer.csrf},
                        follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert CALLER not in html and "请填写查看原因" in html
    assert access_rows(db, action="reveal") == []


def test_reveal_with_a_reason_shows_the_full_number_and_logs_the_reason(officer, db):
    case = make_case(db, "123456")
    resp = officer.post("/console/cases/123456/reveal", data={"reason": "回电核实", "csrf_token": officer.csrf})
    assert resp.status_code == 200
    assert f'<strong id="caller-revealed">{CALLER}</strong>' in resp.get_data(as_text=True)
    [row] = access_rows(db, action="reveal")
    assert (row.actor, row.case_id, row.reason, row.route) == ("zhang", case.id, "回电核实",
                                                               "/console/cases/123456/reveal")


def test_revealed_number_is_shown_on_that_response_only(officer, db):
    make_case(db, "123456")
    officer.post("/console/cases/123456/reveal", data={"reason": "回电核实", "csrf_token": officer.csrf})
    assert CALLER not in officer.get("/console/cases/123456").get_data(as_text=True)


def test_dispatcher_cannot_reveal_and_nothing_is_logged(staff, db):
    make_case(db, "123456")
    client = staff.login("dispatcher")
    resp = client.post("/console/cases/123456/reveal", data={"reason": "想看", "csrf_token": client.csrf})
    assert resp.status_code == 403 and CALLER not in resp.get_data(as_text=True)
    assert access_rows(db) == []


# --- acknowledge ------------------------------------------------------------------------------------------

def ack(client, code: str):
    return client.post(f"/console/cases/{code}/ack", data={"csrf_token": client.csrf}, follow_redirects=True)


def test_console_ack_acknowledges_the_case_as_the_user_and_stops_the_alert_schedule(officer, db, tw, chain):
    call = voicemail_call(tw)
    assert case_of(db, call).next_alert_at is not None
    ack(officer, case_of(db, call).code)
    case = case_of(db, call)
    assert case.status == "acknowledged" and case.acknowledged_at is not None and case.next_alert_at is None
    assert case.acknowledged_by_id is None  # a console user is not an officer
    assert (case.events[-1].kind, case.events[-1].actor) == ("acknowledged", "zhang")
    assert case.events[-1].detail == "zhang by console"


def test_no_further_alert_round_after_a_console_ack(officer, db, tw, chain, run_worker):
    call = voicemail_call(tw)
    run_worker()  # round 1
    due = case_of(db, call).next_alert_at
    ack(officer, case_of(db, call).code)
    time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.05)
    run_worker()  # round 2 would be due now
    db.expire_all()
    assert db.scalar(select(func.count(Message.id)).where(Message.key.like("case-alert:%:2:%"))) == 0
    assert case_of(db, call).alert_round == 1


def test_officer_acking_by_sms_after_a_console_ack_is_told_who_was_first(officer, db, tw, chain):
    call = voicemail_call(tw)
    code = case_of(db, call).code
    ack(officer, code)
    reply = answer(tw.sms(from_=TIER1_A, to=ELDERLY_NUMBER, body=f"ACK {code}"))
    assert "zhang" in reply and code in reply
    assert [e.kind for e in case_of(db, call).events].count("acknowledged") == 1


@pytest.mark.parametrize("status", ["answered", "acknowledged", "closed", "ringing"])
def test_ack_of_a_case_that_needs_none_is_refused_and_changes_nothing(officer, db, status):
    make_case(db, "123456", status=status)
    html = ack(officer, "123456").get_data(as_text=True)
    assert "无需确认" in html
    case = fresh(db, "123456")
    assert case.status == status and [e.kind for e in case.events] == ["call"]


# --- close ------------------------------------------------------------------------------------------------

def close(client, code: str, note: str):
    return client.post(f"/console/cases/{code}/close", data={"note": note, "csrf_token": client.csrf},
                       follow_redirects=True)


@pytest.mark.parametrize("note", ["", "  \n "], ids=["empty", "blank"])
def test_close_needs_a_note_and_changes_nothing_without_one(officer, db, note):
    make_case(db, "123456", status="acknowledged")
    assert "请填写结案说明" in close(officer, "123456", note).get_data(as_text=True)
    case = fresh(db, "123456")
    assert case.status == "acknowledged" and case.closed_at is None


def test_close_with_a_note_closes_the_case_as_the_user(officer, db):
    make_case(db, "123456", status="acknowledged")
    close(officer, "123456", "已回电，孩子安全，转社工跟进")
    case = fresh(db, "123456")
    assert case.status == "closed" and case.closed_at is not None and case.note == "已回电，孩子安全，转社工跟进"
    assert (case.events[-1].kind, case.events[-1].actor, case.events[-1].detail) == \
        ("closed", "zhang", "已回电，孩子安全，转社工跟进")


def test_closing_an_unacknowledged_case_is_refused_until_it_is_acknowledged(officer, db):
    make_case(db, "123456", status="voicemail")
    assert "请先确认再结案" in close(officer, "123456", "处理完毕").get_data(as_text=True)
    assert fresh(db, "123456").status == "voicemail"


def test_closing_a_closed_case_again_keeps_the_first_note(officer, db):
    make_case(db, "123456", status="acknowledged")
    close(officer, "123456", "第一次")
    assert "不能结案" in close(officer, "123456", "第二次").get_data(as_text=True)
    assert fresh(db, "123456").note == "第一次"


# --- CSRF -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("action, data", [("reveal", {"reason": "回电"}), ("ack", {}), ("close", {"note": "完"})])
def test_case_action_without_the_csrf_token_is_400_and_changes_nothing(officer, db, action, data):
    make_case(db, "123456", status="voicemail" if action == "ack" else "acknowledged")
    resp = officer.post(f"/console/cases/123456/{action}", data=data)
    assert resp.status_code == 400 and CALLER not in resp.get_data(as_text=True)
    case = fresh(db, "123456")
    assert [e.kind for e in case.events] == ["call"] and access_rows(db) == []
