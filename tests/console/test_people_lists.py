"""The console's registry lists: search by name, phone or community, masked phones, status filter, pages."""
from __future__ import annotations

from models import Officer, Technician
from tests.console.people_pages import OTHER_TECH_PHONE, TECH_PHONE, row_ids, table
from tests.people import RESIDENT_LANDLINE, RESIDENT_MOBILE, resident, technician

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
