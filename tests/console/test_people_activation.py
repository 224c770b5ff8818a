"""Deactivating and activating technicians and officers, and who is nearby on a resident's page."""
from __future__ import annotations

import re

from models import Officer, Resident, Technician
from tests.console.people_pages import TECH_PHONE, post, row_ids, table
from tests.people import resident, technician

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
