"""Editing technicians, residents and officers in the console: saved in E.164, bad input refused unchanged."""
from __future__ import annotations

import logging
import re

from sqlalchemy import select

from models import Officer, Resident, ResidentPhone, Technician
from tests.console.people_pages import OTHER_TECH_PHONE, TECH_PHONE, post, tech_form
from tests.people import RESIDENT_LANDLINE, RESIDENT_MOBILE, resident, technician


def resident_form(**changes) -> dict:
    """A valid resident form, with some fields changed."""
    form = {"name": "王秀英", "phones": "13904761234", "address": "向阳社区3号楼", "community": "向阳社区",
            "lat": "43.98", "lng": "119.39", "birth_date": "", "emergency_contact": "", "flags": []}
    form.update(changes)
    return form


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
