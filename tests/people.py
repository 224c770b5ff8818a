"""Small builders for registry rows used across tests (around 林东镇, 43.98 N 119.39 E)."""
from __future__ import annotations

from datetime import timedelta

from models import Officer, Resident, ResidentPhone, RotaShift, Technician, utcnow

LINDONG = (43.9800, 119.3900)
RESIDENT_MOBILE = "+8613904761234"
RESIDENT_LANDLINE = "+864768223344"


def resident(db, name="王秀英", phones=(RESIDENT_MOBILE,), lat=LINDONG[0], lng=LINDONG[1],
             address="林东镇向阳社区3号楼2单元101", **flags) -> Resident:
    """A registered resident with one or more numbers."""
    row = Resident(name=name, address=address, community="向阳社区", lat=lat, lng=lng, **flags)
    row.phones = [ResidentPhone(phone=p) for p in phones]
    db.add(row)
    db.commit()
    return row


def technician(db, name, phone, km_north=1.0, skills="housekeeping", active=True) -> Technician:
    """A technician `km_north` kilometres north of the resident."""
    row = Technician(name=name, phone=phone, skills=skills, community="林东镇",
                     lat=LINDONG[0] + km_north / 111.2, lng=LINDONG[1], active=active)
    db.add(row)
    db.commit()
    return row


def officer(db, name, phone, role="officer", line="elderly", tier=1, hours=(-1, 8)) -> Officer:
    """An officer on shift on `line` in `tier`, from `hours[0]` to `hours[1]` hours from now."""
    row = Officer(name=name, phone=phone, role=role)
    db.add(row)
    db.flush()
    if line:
        now = utcnow()
        db.add(RotaShift(officer_id=row.id, line=line, tier=tier, starts_at=now + timedelta(hours=hours[0]),
                         ends_at=now + timedelta(hours=hours[1])))
    db.commit()
    return row
