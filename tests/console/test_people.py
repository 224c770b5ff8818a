"""Technicians, residents and officers in the console: search, masked lists, edits, activation, who is nearby."""
from __future__ import annotations

import logging
import re

from sqlalchemy import select

from models import Officer, Resident, ResidentPhone, Technician
from tests.people import RESIDENT_LANDLINE, RESIDENT_MOBILE, resident, technician

TECH_PHONE = "+8613904760001"
OTHER_TECH_PHONE = "+8613904760002"


def table(html: str, table_id: str) -> str:
    """The HTML of one table of a page."""
    match = re.search(rf'<table id="{table_id}".*?</table>', html, re.S)
    assert match, f"no table#{table_id}"
    return match.group(0)


def row_ids(html: str, table_id: str, attr: str = "data-id") -> list[int]:
    """The record ids of a table's rows, in page order."""
    return [int(i) for i in re.findall(rf'{attr}="(\d+)"', table(html, table_id))]


def tech_form(**changes) -> dict:
    """A valid technician form, with some fields changed."""
    form = {"name": "李师傅", "phone": "139 0476 0001", "community": "向阳社区", "skills": ["housekeeping"],
            "lat": "43.98", "lng": "119.39"}
    form.update(changes)
    return form


def resident_form(**changes) -> dict:
    """A valid resident form, with some fields changed."""
    form = {"name": "王秀英", "phones": "13904761234", "address": "向阳社区3号楼", "community": "向阳社区",
            "lat": "43.98", "lng": "119.39", "birth_date": "", "emergency_contact": "", "flags": []}
    form.update(changes)
    return form


def post(client, url, form):
    """POST a console form with the session's CSRF token."""
    return client.post(url, data={**form, "csrf_token": client.csrf})


# --- search and lists ---------------------------------------------------------------------------------------

def test_technician_search_finds_by_name(staff, db):
    wanted = technician(db, "李建国", TECH_PHONE)
    technician(db, "张伟", OTHER_TECH_PHONE)
    html = staff.login("dispatcher").get("/console/technicians?q=建国").get_data(as_text=True)
    assert 'id="search"' in html
    assert row_ids(html, "technicians") == [wanted.id]


def test_technician_search_finds_by_phone_digits_in_any_format(staff, db):
    technician(db, "李建国", TECH_PHONE)
    wanted = technician(db, "张伟", OTHER_TECH_PHONE)
    client = staff.login("dispatcher")
    for typed in ("0476 0002", "139-0476-0002", "+86 139 0476 0002"):
        html = client.get(f"/console/technicians?q={typed}").get_data(as_text=True)
        assert row_ids(html, "technicians") == [wanted.id], typed


def test_technician_search_finds_by_community(staff, db):
    wanted = technician(db, "李建国", TECH_PHONE)
    other = technician(db, "张伟", OTHER_TECH_PHONE)
    other.community = "城关社区"
    db.commit()
    html = staff.login("dispatcher").get("/console/technicians?q=林东").get_data(as_text=True)
    assert row_ids(html, "technicians") == [wanted.id]


def test_resident_search_finds_a_landline_typed_with_its_trunk_zero(staff, db):
    wanted = resident(db, phones=(RESIDENT_MOBILE, RESIDENT_LANDLINE))
    resident(db, name="赵桂兰", phones=("+8613904769999",))
    html = staff.login("dispatcher").get("/console/residents?q=0476-8223344").get_data(as_text=True)
    assert row_ids(html, "residents") == [wanted.id]


def test_officer_search_finds_by_name(staff, db):
    db.add_all([Officer(name="刘值班", phone="+8613904770001"), Officer(name="陈主管", phone="+8613904770002")])
    db.commit()
    html = staff.login("duty_officer").get("/console/officers?q=陈").get_data(as_text=True)
    assert len(row_ids(html, "officers")) == 1 and "陈主管" in table(html, "officers")


def test_lists_show_phones_masked_only(staff, db):
    technician(db, "李建国", TECH_PHONE)
    resident(db, phones=(RESIDENT_MOBILE, RESIDENT_LANDLINE))
    db.add(Officer(name="刘值班", phone="+8613904770001"))
    db.commit()
    admin = staff.login("admin")
    for path, table_id, number in (("/console/technicians", "technicians", TECH_PHONE),
                                   ("/console/residents", "residents", RESIDENT_LANDLINE),
                                   ("/console/officers", "officers", "+8613904770001")):
        html = table(admin.get(path).get_data(as_text=True), table_id)
        assert number not in html and number[1:] not in html
        assert "****" + number[-4:] in html


def test_list_shows_inactive_and_filters_by_status(staff, db):
    on = technician(db, "李建国", TECH_PHONE)
    off = technician(db, "张伟", OTHER_TECH_PHONE, active=False)
    client = staff.login("dispatcher")
    html = client.get("/console/technicians").get_data(as_text=True)
    assert f'data-id="{off.id}" data-active="false"' in html
    assert f'data-id="{on.id}" data-active="true"' in html
    assert row_ids(client.get("/console/technicians?status=inactive").get_data(as_text=True),
                   "technicians") == [off.id]


def test_list_is_paginated(staff, db):
    for i in range(30):
        db.add(Technician(name=f"师傅{i:02d}", phone=f"+86139047600{i:02d}", skills="housekeeping"))
    db.commit()
    client = staff.login("dispatcher")
    first = row_ids(client.get("/console/technicians").get_data(as_text=True), "technicians")
    second = row_ids(client.get("/console/technicians?page=2").get_data(as_text=True), "technicians")
    assert len(first) == 25 and len(second) == 5 and not set(first) & set(second)


# --- edits ----------------------------------------------------------------------------------------------------

def test_technician_edit_persists_with_phone_in_e164(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    resp = post(staff.login("dispatcher"), f"/console/technicians/{tech.id}",
                tech_form(name="李建军", phone="139 0476 5678", skills=["daily_care", "emergency"],
                          lat="44.01", lng="119.40"))
    assert resp.status_code == 302
    db.expire_all()
    tech = db.get(Technician, tech.id)
    assert (tech.name, tech.phone, tech.skills, tech.lat, tech.lng) == (
        "李建军", "+8613904765678", "daily_care;emergency", 44.01, 119.40)


def test_edit_page_shows_the_form_filled_in(staff, db):
    tech = technician(db, "李建国", TECH_PHONE, skills="legal_aid")
    html = staff.login("dispatcher").get(f"/console/technicians/{tech.id}").get_data(as_text=True)
    assert 'value="李建国"' in html and f'value="{TECH_PHONE}"' in html
    assert re.search(r'value="legal_aid" checked', html) and not re.search(r'value="emergency" checked', html)


def _refused(staff, db, tech, form, message):
    before = (tech.name, tech.phone, tech.skills, tech.lat, tech.lng)
    resp = post(staff.login("dispatcher"), f"/console/technicians/{tech.id}", form)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    db.expire_all()
    tech = db.get(Technician, tech.id)
    assert (tech.name, tech.phone, tech.skills, tech.lat, tech.lng) == before


def test_technician_edit_with_bad_phone_is_refused_and_changes_nothing(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    _refused(staff, db, tech, tech_form(name="新名字", phone="12345"), "电话")


def test_technician_edit_with_a_phone_of_another_technician_is_refused(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    technician(db, "张伟", OTHER_TECH_PHONE)
    _refused(staff, db, tech, tech_form(name="新名字", phone="13904760002"), "已登记给 张伟")


def test_technician_edit_with_latitude_out_of_range_is_refused(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    _refused(staff, db, tech, tech_form(name="新名字", lat="95"), "超出范围")


def test_technician_edit_with_only_one_coordinate_is_refused(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    _refused(staff, db, tech, tech_form(name="新名字", lng=""), "纬度和经度须同时填写")


def test_technician_edit_with_empty_name_is_refused(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    _refused(staff, db, tech, tech_form(name="  ", community="别处"), "“姓名”不能为空")


def test_technician_edit_without_skills_is_refused(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    _refused(staff, db, tech, tech_form(name="新名字", skills=[]), "请至少选择一项技能")


def test_refused_edit_keeps_what_was_typed(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    html = post(staff.login("dispatcher"), f"/console/technicians/{tech.id}",
                tech_form(name="新名字", phone="12345")).get_data(as_text=True)
    assert 'value="新名字"' in html and 'value="12345"' in html


def test_messages_follow_the_language(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    client = staff.login("dispatcher")
    client.get("/console/technicians?lang=en")
    resp = post(client, f"/console/technicians/{tech.id}", tech_form(lat="95"))
    assert "Latitude is out of range" in resp.get_data(as_text=True)


def test_new_technician_is_added(staff, db):
    resp = post(staff.login("dispatcher"), "/console/technicians/new", tech_form(phone="13904769876"))
    assert resp.status_code == 302
    added = db.scalar(select(Technician).where(Technician.phone == "+8613904769876"))
    assert added is not None and added.active and resp.headers["Location"].endswith(f"/technicians/{added.id}")


def test_resident_edit_replaces_phones_and_sets_flags(staff, db):
    person = resident(db, phones=(RESIDENT_MOBILE, "+8613904769999"))
    resp = post(staff.login("dispatcher"), f"/console/residents/{person.id}",
                resident_form(phones="139 0476 1234\n0476-8223344", flags=["advanced_age", "empty_nest"],
                              birth_date="1940年3月4日"))
    assert resp.status_code == 302
    db.expire_all()
    person = db.get(Resident, person.id)
    assert [p.phone for p in person.phones] == [RESIDENT_MOBILE, RESIDENT_LANDLINE]
    assert person.flags == ["advanced_age", "empty_nest"] and person.birth_date.isoformat() == "1940-03-04"
    assert db.scalar(select(ResidentPhone).where(ResidentPhone.phone == "+8613904769999")) is None


def test_resident_phones_keep_the_typed_order(staff, db):
    person = resident(db, phones=(RESIDENT_MOBILE, RESIDENT_LANDLINE))
    post(staff.login("dispatcher"), f"/console/residents/{person.id}",
         resident_form(phones=f"{RESIDENT_LANDLINE}\n{RESIDENT_MOBILE}"))
    db.expire_all()
    assert db.get(Resident, person.id).primary_phone == RESIDENT_LANDLINE


def test_resident_edit_with_a_phone_of_another_resident_is_refused(staff, db):
    person = resident(db)
    resident(db, name="赵桂兰", phones=(RESIDENT_LANDLINE,))
    resp = post(staff.login("dispatcher"), f"/console/residents/{person.id}",
                resident_form(name="改名", phones=f"{RESIDENT_MOBILE}\n04768223344"))
    assert resp.status_code == 400 and "已登记给 赵桂兰" in resp.get_data(as_text=True)
    db.expire_all()
    person = db.get(Resident, person.id)
    assert person.name == "王秀英" and [p.phone for p in person.phones] == [RESIDENT_MOBILE]


def test_resident_edit_without_any_phone_is_refused(staff, db):
    person = resident(db)
    resp = post(staff.login("dispatcher"), f"/console/residents/{person.id}", resident_form(phones=" "))
    assert resp.status_code == 400
    db.expire_all()
    assert [p.phone for p in db.get(Resident, person.id).phones] == [RESIDENT_MOBILE]


def test_officer_edit_persists_role(staff, db):
    officer = Officer(name="刘值班", phone="+8613904770001")
    db.add(officer)
    db.commit()
    resp = post(staff.login("duty_officer"), f"/console/officers/{officer.id}",
                {"name": "刘值班", "phone": "13904770003", "role": "supervisor"})
    assert resp.status_code == 302
    db.expire_all()
    officer = db.get(Officer, officer.id)
    assert (officer.phone, officer.role) == ("+8613904770003", "supervisor")


def test_edit_logs_the_actor_and_only_masked_numbers(staff, db, caplog):
    tech = technician(db, "李建国", TECH_PHONE)
    with caplog.at_level(logging.INFO, logger="hotline.console.people"):
        post(staff.login("dispatcher", username="zhang"), f"/console/technicians/{tech.id}",
             tech_form(phone="13904765678"))
    assert "zhang edited technician" in caplog.text and "+86****5678" in caplog.text
    assert "13904765678" not in caplog.text


# --- activation ---------------------------------------------------------------------------------------------

def test_technician_is_deactivated_and_activated_again(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    client = staff.login("dispatcher")
    url = f"/console/technicians/{tech.id}/active"
    assert post(client, url, {"active": "0"}).status_code == 302
    db.expire_all()
    assert db.get(Technician, tech.id).active is False
    post(client, url, {"active": "1"})
    db.expire_all()
    assert db.get(Technician, tech.id).active is True


def test_deactivating_from_the_list_returns_to_the_list(staff, db):
    person = resident(db)
    resp = post(staff.login("dispatcher"), f"/console/residents/{person.id}/active",
                {"active": "0", "next": "/console/residents?q=0476&page=1"})
    assert resp.headers["Location"] == "/console/residents?q=0476&page=1"
    db.expire_all()
    assert db.get(Resident, person.id).active is False


def test_officer_is_deactivated(staff, db):
    officer = Officer(name="刘值班", phone="+8613904770001")
    db.add(officer)
    db.commit()
    post(staff.login("duty_officer"), f"/console/officers/{officer.id}/active", {"active": "0"})
    db.expire_all()
    assert db.get(Officer, officer.id).active is False


# --- who is nearby ------------------------------------------------------------------------------------------

def test_resident_page_lists_active_technicians_nearest_first_with_km(staff, db):
    person = resident(db)
    far = technician(db, "远", "+8613904760003", km_north=8.0)
    near = technician(db, "近", "+8613904760004", km_north=0.5, skills="daily_care;emergency")
    middle = technician(db, "中", "+8613904760005", km_north=3.0)
    technician(db, "停用", "+8613904760006", km_north=0.2, active=False)
    technician(db, "太远", "+8613904760007", km_north=25.0)
    html = staff.login("dispatcher").get(f"/console/residents/{person.id}").get_data(as_text=True)
    nearby = table(html, "nearby-technicians")
    assert row_ids(html, "nearby-technicians", "data-technician-id") == [near.id, middle.id, far.id]
    distances = [float(d) for d in re.findall(r'data-distance-km="([\d.]+)"', nearby)]
    assert [round(d, 1) for d in distances] == [0.5, 3.0, 8.0]
    assert "0.5 km" in nearby and "紧急救援" in nearby


def test_resident_without_location_says_distances_are_unknown(staff, db):
    person = resident(db, lat=None, lng=None)
    technician(db, "近", TECH_PHONE)
    html = staff.login("dispatcher").get(f"/console/residents/{person.id}").get_data(as_text=True)
    assert 'id="nearby-unknown"' in html and 'id="nearby-technicians"' not in html


# --- who may do what ------------------------------------------------------------------------------------------

def test_dispatcher_is_refused_the_officers(staff, db):
    officer = Officer(name="刘值班", phone="+8613904770001")
    db.add(officer)
    db.commit()
    client = staff.login("dispatcher")
    assert client.get("/console/officers").status_code == 403
    assert post(client, f"/console/officers/{officer.id}/active", {"active": "0"}).status_code == 403
    db.expire_all()
    assert db.get(Officer, officer.id).active is True


def test_duty_officer_is_refused_technicians_and_residents(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    client = staff.login("duty_officer")
    assert client.get("/console/technicians").status_code == 403
    assert client.get("/console/residents").status_code == 403
    assert post(client, f"/console/technicians/{tech.id}", tech_form(name="改名")).status_code == 403


def test_admin_sees_every_registry(staff):
    admin = staff.login("admin")
    for path in ("/console/technicians", "/console/residents", "/console/officers"):
        assert admin.get(path).status_code == 200, path


def test_not_logged_in_goes_to_login(client):
    resp = client.get("/console/technicians")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]


def test_edit_without_csrf_token_is_refused_and_changes_nothing(staff, db):
    tech = technician(db, "李建国", TECH_PHONE)
    client = staff.login("dispatcher")
    assert client.post(f"/console/technicians/{tech.id}", data=tech_form(name="改名")).status_code == 400
    assert client.post(f"/console/technicians/{tech.id}/active", data={"active": "0"}).status_code == 400
    db.expire_all()
    tech = db.get(Technician, tech.id)
    assert tech.name == "李建国" and tech.active


def test_unknown_record_is_404(staff):
    assert staff.login("dispatcher").get("/console/residents/999").status_code == 404

