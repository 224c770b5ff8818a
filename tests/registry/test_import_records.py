"""Registry CSV import stores residents, technicians, officers and rota shifts, and a re-import updates them."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models import RotaShift, officer_by_phone, resident_by_phone, technician_by_phone
from tests.registry.import_helpers import (
    OFFICERS,
    RESIDENTS,
    counts,
    run,
    session,  # noqa: F401 - fixtures
)

# --- happy paths -------------------------------------------------------------------------------

def test_import_residents_creates_residents_with_phones_flags_and_place(session):
    result = run(session, "residents", RESIDENTS)
    assert (result.created, result.updated, result.errors) == (2, 0, [])
    zhang = resident_by_phone(session, "+8613904761234")
    assert [p.phone for p in zhang.phones] == ["+8613904761234", "+864768223344"]
    assert zhang.flags == ["advanced_age", "empty_nest"]
    assert (zhang.lat, zhang.lng, zhang.birth_date) == (43.98, 119.39, date(1941, 5, 12))
    assert zhang.address == "林东镇东城社区3号楼2单元" and zhang.emergency_contact == "儿子"
    wang = resident_by_phone(session, "+8615047682201")
    assert wang.flags == ["hardship"] and (wang.lat, wang.lng) == (None, None)
    assert wang.birth_date == date(1949, 10, 3)


def test_import_technicians_parses_skills_in_any_spelling_and_active(session):
    text = ("name,phone,skills,community,lat,lng,active\n"
            "赵志刚,138 0476 1101,daily_care;housekeeping,东城社区,43.98,119.39,\n"
            "孙秀芳,138 0476 1102,精神慰藉；1,西城社区,,,否\n"
            "周建军,138 0476 1103,4/紧急救援,,,,在岗\n")
    assert run(session, "technicians", text).created == 3
    zhao, sun, zhou = (technician_by_phone(session, f"+861380476110{i}") for i in (1, 2, 3))
    assert zhao.skill_list == ["daily_care", "housekeeping"] and zhao.active is True
    assert sun.skill_list == ["daily_care", "companionship"] and sun.active is False
    assert zhou.skill_list == ["legal_aid", "emergency"] and zhou.active is True


def test_import_officers_defaults_blank_role_to_officer(session):
    assert run(session, "officers", OFFICERS).created == 2
    assert officer_by_phone(session, "+8613804760001").role == "officer"
    assert officer_by_phone(session, "+8615004760003").role == "supervisor"


def test_import_rota_stores_local_times_as_utc(session):
    run(session, "officers", OFFICERS)
    text = ("officer_phone,line,tier,starts_at,ends_at\n"
            "138 0476 0001,elderly,1,2026-12-01 08:00,2026-12-01 20:00\n"
            "15004760003,儿童,2,2026-12-01 08:00,2026-12-02 08:00\n")
    assert run(session, "rota", text).created == 2
    first, second = session.scalars(select(RotaShift).order_by(RotaShift.id))
    assert first.starts_at == datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
    assert first.ends_at == datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert (first.line, first.tier, first.officer.phone) == ("elderly", 1, "+8613804760001")
    assert (second.line, second.tier) == ("child", 2)


def test_rota_time_with_explicit_offset_ignores_import_time_zone(session):
    run(session, "officers", OFFICERS)
    text = ("officer_phone,line,tier,starts_at,ends_at\n"
            "13804760001,elderly,1,2026-12-01T08:00:00+08:00,2026-12-01T10:00:00Z\n")
    assert run(session, "rota", text, tz=ZoneInfo("America/New_York")).ok
    shift = session.scalar(select(RotaShift))
    assert shift.starts_at == datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
    assert shift.ends_at == datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def test_rota_time_without_offset_is_local_to_the_given_zone(session):
    run(session, "officers", OFFICERS)
    text = "officer_phone,line,tier,starts_at,ends_at\n13804760001,child,1,2026/12/1 8:00,2026-12-01 09:30:00\n"
    assert run(session, "rota", text, tz=ZoneInfo("America/New_York")).ok
    shift = session.scalar(select(RotaShift))
    assert shift.starts_at == datetime(2026, 12, 1, 13, 0, tzinfo=timezone.utc)
    assert shift.ends_at == datetime(2026, 12, 1, 14, 30, tzinfo=timezone.utc)


# --- upserts -------------------------------------------------------------------------------------

def test_reimport_updates_resident_without_duplicating(session):
    run(session, "residents", RESIDENTS)
    session.commit()
    changed = RESIDENTS.replace("林东镇东城社区3号楼2单元", "林东镇东城社区9号楼1单元")
    result = run(session, "residents", changed)
    assert (result.created, result.updated) == (0, 2)
    assert counts(session)["Resident"] == 2 and counts(session)["ResidentPhone"] == 3
    assert resident_by_phone(session, "+864768223344").address == "林东镇东城社区9号楼1单元"


def test_reimport_matches_resident_by_any_phone_and_replaces_the_phone_list(session):
    run(session, "residents", RESIDENTS)
    result = run(session, "residents", "name,phone\n张桂兰,0476-8223344;138 0476 9999\n")
    assert (result.created, result.updated) == (0, 1)
    zhang = resident_by_phone(session, "+864768223344")
    assert [p.phone for p in zhang.phones] == ["+864768223344", "+8613804769999"]
    assert resident_by_phone(session, "+8613904761234") is None
    assert counts(session)["Resident"] == 2


def test_column_absent_from_file_leaves_stored_values_alone(session):
    run(session, "residents", RESIDENTS)
    run(session, "residents", "name,phone\n张桂兰（改）,139 0476 1234;0476-8223344\n")
    zhang = resident_by_phone(session, "+8613904761234")
    assert zhang.name == "张桂兰（改）"
    assert zhang.address == "林东镇东城社区3号楼2单元" and zhang.flags == ["advanced_age", "empty_nest"]


def test_reimport_updates_technician_and_officer_by_phone(session):
    run(session, "technicians", "name,phone,skills\n赵志刚,13804761101,1\n")
    run(session, "officers", OFFICERS)
    tech = run(session, "technicians", "name,phone,skills,active\n赵志刚,138-0476-1101,5,离岗\n")
    officer = run(session, "officers", "name,phone,role\n王海燕,+8613804760001,supervisor\n")
    assert (tech.updated, officer.updated) == (1, 1)
    assert counts(session)["Technician"] == 1 and counts(session)["Officer"] == 2
    zhao = technician_by_phone(session, "+8613804761101")
    assert zhao.skill_list == ["emergency"] and zhao.active is False
    assert officer_by_phone(session, "+8613804760001").role == "supervisor"


def test_reimport_rota_updates_tier_without_duplicating(session):
    run(session, "officers", OFFICERS)
    text = "officer_phone,line,tier,starts_at,ends_at\n13804760001,elderly,{tier},2026-12-01 08:00,2026-12-01 20:00\n"
    assert run(session, "rota", text.format(tier=1)).created == 1
    session.commit()
    result = run(session, "rota", text.format(tier=2).replace("2026-12-01 08:00", "2026-12-01T08:00+08:00"))
    assert (result.created, result.updated) == (0, 1)
    assert counts(session)["RotaShift"] == 1 and session.scalar(select(RotaShift.tier)) == 2
