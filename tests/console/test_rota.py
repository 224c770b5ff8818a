"""The rota page: a local week per line, on duty now, adding/editing/removing shifts, holes in cover."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from models import Officer, RotaShift
from tests.people import officer

MONDAY = "2030-12-02"  # a Monday; Asia/Shanghai (the default zone) is UTC+8 all year
WEEK = f"/console/rota/?week={MONDAY}"


def local(text: str, settings) -> datetime:
    """A local wall-clock time ("2030-12-03 08:00") as the aware UTC instant stored."""
    return datetime.fromisoformat(text).replace(tzinfo=settings.tz).astimezone(timezone.utc)


def make_officer(db, name="刘值班", phone="+8613904770001", role="officer", active=True) -> Officer:
    """An officer with no shifts."""
    row = Officer(name=name, phone=phone, role=role, active=active)
    db.add(row)
    db.commit()
    return row


def shift(db, settings, who: Officer, start: str, end: str, line="elderly", tier=1) -> RotaShift:
    """A shift between two local times."""
    row = RotaShift(officer_id=who.id, line=line, tier=tier, starts_at=local(start, settings),
                    ends_at=local(end, settings))
    db.add(row)
    db.commit()
    return row


def section(html: str, element_id: str) -> str:
    """The HTML of the element with this id up to the end of its section/div (enough for assertions)."""
    match = re.search(rf'<(section|div)[^>]*id="{element_id}".*?</\1>', html, re.S)
    assert match, f"no #{element_id}"
    return match.group(0)


def line_grid(html: str, line: str) -> str:
    """One line's part of #rota-week."""
    match = re.search(rf'<section class="card rota-line" data-line="{line}">.*?</section>', html, re.S)
    assert match, f"no grid for {line}"
    return match.group(0)


def form(who: Officer, start="2030-12-03T08:00", end="2030-12-03T20:00", line="elderly", tier="1", **extra) -> dict:
    """A shift form as the browser sends it."""
    return {"officer_id": str(who.id), "line": line, "tier": tier, "starts_at": start, "ends_at": end,
            "week": MONDAY, **extra}


def post(client, url, data):
    """POST with the session's CSRF token."""
    return client.post(url, data={**data, "csrf_token": client.csrf})


def count(db) -> int:
    """How many shifts are stored."""
    return db.scalar(select(func.count()).select_from(RotaShift))


# --- the week view --------------------------------------------------------------------------------------------

def test_week_view_shows_a_shift_on_its_line_tier_and_local_day(staff, db, settings):
    who = make_officer(db, "陈晓")
    row = shift(db, settings, who, "2030-12-03 08:00", "2030-12-03 20:00", line="child", tier=2)
    html = staff.login("duty_officer").get(WEEK).get_data(as_text=True)
    assert 'id="rota-week"' in html and 'id="shift-form"' in html
    grid = line_grid(html, "child")
    tier_row = re.search(r'<tr data-tier="2">(.*?)</tr>', grid, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", tier_row, re.S)
    assert [i for i, cell in enumerate(cells) if f'data-shift-id="{row.id}"' in cell] == [1]  # Tuesday
    assert "陈晓" in cells[1] and "08:00–20:00" in cells[1]
    assert "陈晓" not in line_grid(html, "elderly")


def test_overnight_shift_appears_on_both_days(staff, db, settings):
    who = make_officer(db)
    row = shift(db, settings, who, "2030-12-04 20:00", "2030-12-05 08:00")
    grid = line_grid(staff.login("duty_officer").get(WEEK).get_data(as_text=True), "elderly")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", re.search(r'<tr data-tier="1">(.*?)</tr>', grid, re.S).group(1), re.S)
    assert [i for i, cell in enumerate(cells) if f'data-shift-id="{row.id}"' in cell] == [2, 3]
    assert "20:00–24:00…" in cells[2] and "…00:00–08:00" in cells[3]


def test_week_navigation_moves_by_seven_days(staff):
    html = staff.login("duty_officer").get(WEEK).get_data(as_text=True)
    assert 'href="/console/rota/?week=2030-11-25" id="week-prev"' in html
    assert 'href="/console/rota/?week=2030-12-09" id="week-next"' in html


def test_any_day_shows_its_monday_to_sunday_week(staff):
    html = staff.login("duty_officer").get("/console/rota/?week=2030-12-05").get_data(as_text=True)
    assert "2030-12-02 至 2030-12-08" in html


# --- on duty now ----------------------------------------------------------------------------------------------

def test_on_duty_now_lists_each_line_by_tier(staff, db):
    first = officer(db, "一线", "+8613904770001", tier=1)
    second = officer(db, "二线", "+8613904770002", tier=2)
    child = officer(db, "儿童线", "+8613904770003", line="child", tier=1)
    officer(db, "晚班", "+8613904770004", hours=(5, 10))
    gone = officer(db, "离职", "+8613904770005")
    gone.active = False
    db.commit()
    now = section(staff.login("duty_officer").get("/console/rota/").get_data(as_text=True), "on-duty-now")
    elderly = re.search(r'data-line="elderly">(.*?)</div>', now, re.S).group(1)
    assert re.search(rf'data-tier="1">[^<]*<span class="officer" data-officer-id="{first.id}">一线', elderly)
    assert re.search(rf'data-tier="2">[^<]*<span class="officer" data-officer-id="{second.id}">二线', elderly)
    assert "晚班" not in now and "离职" not in now
    child_part = re.search(r'data-line="child">(.*?)</div>', now, re.S).group(1)
    assert f'data-officer-id="{child.id}"' in child_part and "一线" not in child_part


def test_nobody_on_duty_now_names_the_supervisors_who_are_rung(staff, db):
    officer(db, "一线", "+8613904770001", tier=1)
    make_officer(db, "王主管", "+8613904770009", role="supervisor")
    now = section(staff.login("duty_officer").get("/console/rota/").get_data(as_text=True), "on-duty-now")
    child_part = re.search(r'data-line="child">(.*?)</div>', now, re.S).group(1)
    assert "当前无人值班" in child_part and "王主管" in child_part


# --- gaps -----------------------------------------------------------------------------------------------------

def test_gap_in_a_lines_cover_is_warned_about(staff, db, settings):
    who = make_officer(db)
    shift(db, settings, who, "2030-12-02 00:00", "2030-12-09 00:00", line="elderly")
    shift(db, settings, who, "2030-12-02 00:00", "2030-12-05 08:00", line="child")
    shift(db, settings, who, "2030-12-05 20:00", "2030-12-09 00:00", line="child")
    html = staff.login("duty_officer").get(WEEK).get_data(as_text=True)
    gaps = section(html, "rota-gaps")
    assert 'data-line="child"' in gaps and 'data-line="elderly"' not in gaps
    assert "12-05 08:00 – 12-05 20:00" in gaps


def test_fully_covered_week_has_no_warning(staff, db, settings):
    who = make_officer(db)
    for line in ("elderly", "child"):
        shift(db, settings, who, "2030-12-01 20:00", "2030-12-05 12:00", line=line)
        shift(db, settings, who, "2030-12-05 12:00", "2030-12-09 08:00", line=line, tier=2)
    assert 'id="rota-gaps"' not in staff.login("duty_officer").get(WEEK).get_data(as_text=True)


def test_shift_of_an_inactive_officer_leaves_a_gap(staff, db, settings):
    gone = make_officer(db, active=False)
    shift(db, settings, gone, "2030-12-02 00:00", "2030-12-09 00:00", line="elderly")
    gaps = section(staff.login("duty_officer").get(WEEK).get_data(as_text=True), "rota-gaps")
    assert 'data-line="elderly"' in gaps and "12-02 00:00 – 12-09 00:00" in gaps


# --- add, edit, remove ----------------------------------------------------------------------------------------

def test_added_shift_is_stored_in_utc_from_local_time(staff, db, settings):
    who = make_officer(db)
    resp = post(staff.login("duty_officer"), "/console/rota/shifts", form(who, tier="2", line="child"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("week=2030-12-03")
    row = db.scalar(select(RotaShift))
    assert (row.officer_id, row.line, row.tier) == (who.id, "child", 2)
    assert row.starts_at == datetime(2030, 12, 3, 0, 0, tzinfo=timezone.utc)
    assert row.ends_at - row.starts_at == timedelta(hours=12)


def test_edit_form_is_filled_with_local_times(staff, db, settings):
    who = make_officer(db)
    row = shift(db, settings, who, "2030-12-03 08:00", "2030-12-03 20:00", tier=3)
    html = staff.login("duty_officer").get(f"{WEEK}&edit={row.id}").get_data(as_text=True)
    assert f'action="/console/rota/shifts/{row.id}"' in html
    assert 'id="shift-start" type="datetime-local" value="2030-12-03T08:00"' in html
    assert 'id="shift-tier" type="number" min="1" max="99" value="3"' in html


def test_edited_shift_is_changed(staff, db, settings):
    who = make_officer(db)
    other = make_officer(db, "陈晓", "+8613904770002")
    row = shift(db, settings, who, "2030-12-03 08:00", "2030-12-03 20:00")
    resp = post(staff.login("duty_officer"), f"/console/rota/shifts/{row.id}",
                form(other, start="2030-12-03T09:30", end="2030-12-04T09:30", tier="2"))
    assert resp.status_code == 302
    db.expire_all()
    row = db.get(RotaShift, row.id)
    assert (row.officer_id, row.tier, row.starts_at) == (other.id, 2, local("2030-12-03 09:30", settings))
    assert count(db) == 1


def test_removed_shift_is_gone(staff, db, settings):
    row = shift(db, settings, make_officer(db), "2030-12-03 08:00", "2030-12-03 20:00")
    resp = post(staff.login("duty_officer"), f"/console/rota/shifts/{row.id}/delete", {"week": MONDAY})
    assert resp.status_code == 302 and count(db) == 0


def _refused(staff, db, data, message, url="/console/rota/shifts"):
    before = count(db)
    resp = post(staff.login("duty_officer"), url, data)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    errors = re.search(r'<ul class="flash error" id="shift-errors".*?</ul>', html, re.S)
    assert errors and message in errors.group(0)
    assert count(db) == before
    return html


def test_shift_ending_before_it_starts_is_refused(staff, db):
    _refused(staff, db, form(make_officer(db), end="2030-12-03T07:00"), "结束时间须晚于开始时间")


def test_shift_with_tier_zero_is_refused(staff, db):
    _refused(staff, db, form(make_officer(db), tier="0"), "梯队须为1～99的整数")


def test_shift_for_an_inactive_officer_is_refused(staff, db):
    _refused(staff, db, form(make_officer(db, active=False)), "已停用，不能排班")


def test_shift_with_an_unreadable_time_is_refused(staff, db):
    _refused(staff, db, form(make_officer(db), start="明天早上"), "“开始时间”无效")


def test_shift_on_an_unknown_line_is_refused(staff, db):
    _refused(staff, db, form(make_officer(db), line="adult"), "请选择线路")


def test_shift_longer_than_a_week_is_refused(staff, db):
    _refused(staff, db, form(make_officer(db), end="2031-12-03T20:00"), "班次长于7天")


def test_same_shift_twice_is_refused(staff, db, settings):
    who = make_officer(db)
    shift(db, settings, who, "2030-12-03 08:00", "2030-12-03 20:00")
    _refused(staff, db, form(who), "已有完全相同的班次")


def test_refused_edit_changes_nothing_and_keeps_what_was_typed(staff, db, settings):
    who = make_officer(db)
    row = shift(db, settings, who, "2030-12-03 08:00", "2030-12-03 20:00")
    html = _refused(staff, db, form(who, start="2030-12-03T21:00", tier="4"), "结束时间须晚于开始时间",
                    url=f"/console/rota/shifts/{row.id}")
    assert 'value="2030-12-03T21:00"' in html
    db.expire_all()
    row = db.get(RotaShift, row.id)
    assert (row.tier, row.starts_at) == (1, local("2030-12-03 08:00", settings))


# --- who may ---------------------------------------------------------------------------------------------------

def test_dispatcher_is_refused_the_rota(staff, db):
    client = staff.login("dispatcher")
    assert client.get("/console/rota/").status_code == 403
    assert post(client, "/console/rota/shifts", form(make_officer(db))).status_code == 403
    assert count(db) == 0


def test_admin_may_use_the_rota(staff):
    assert staff.login("admin").get("/console/rota/").status_code == 200


def test_shift_without_csrf_token_is_refused(staff, db):
    client = staff.login("duty_officer")
    resp = client.post("/console/rota/shifts", data=form(make_officer(db)))
    assert resp.status_code == 400 and count(db) == 0
