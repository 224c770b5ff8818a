"""Who may use the console's registry pages: each role, anonymous visitors, CSRF, unknown records."""
from __future__ import annotations

from models import Officer, Technician
from tests.console.people_pages import TECH_PHONE, post, tech_form
from tests.people import technician

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
