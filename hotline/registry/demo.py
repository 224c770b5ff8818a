"""A small fictional registry around 林东镇, Balinzuo Banner, loaded through the CSV importer on a fresh database."""
from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.registry.demo_services import load_services
from hotline.registry.importer import import_csv
from models import Officer, Resident, StaffUser, Technician

# Fictional numbers that pass `phonenumbers` validation; the README and tests call these two.
DEMO_RESIDENT_PHONE = "+8613904761234"
DEMO_TECHNICIAN_PHONE = "+8613804761101"
# A week, so a demo left running (or started just before midnight) still has someone on duty.
DEMO_ROTA_DAYS = 7

# Chinese headers, a BOM-less UTF-8 text, a landline with a mobile, full-width separators:
# the demo exercises the same paths a clerk's Excel export does.
RESIDENTS_CSV = """\
姓名,电话,地址,社区,纬度,经度,出生日期,类别,紧急联系人
张桂兰,139 0476 1234；0476-8223344,林东镇东城社区3号楼2单元,东城社区,43.9800,119.3900,1941年5月12日,高龄;空巢,儿子 李明
王凤英,150 4768 2201,林东镇西城社区7号楼1单元,西城社区,43.9830,119.3960,1949/10/3,困难,女儿 王丽
刘振海,+86 186 4760 2233,林东镇南城社区12号楼3单元,南城社区,43.9760,119.3870,1938-02-20,高龄;困难;空巢,侄子 刘强
陈玉梅,159 4768 1001,林东镇北城社区5号楼4单元,北城社区,43.9850,119.3920,1956-08-15,留守,
"""

# English headers and mixed skill spellings (codes, keys, Chinese names); one technician off duty.
TECHNICIANS_CSV = """\
name,phone,skills,community,lat,lng,active
赵志刚,138 0476 1101,daily_care;housekeeping,东城社区,43.9827,119.3900,1
孙秀芳,138 0476 1102,生活照料;精神慰藉,西城社区,43.9800,119.4050,是
周建军,138 0476 1103,4,南城社区,43.9580,119.3820,yes
吴海波,138 0476 1104,emergency;daily_care,北城社区,44.0150,119.3850,在岗
郑丽娟,138 0476 1105,家政服务;紧急救援,城郊,43.9800,119.3215,true
马德胜,138 0476 1106,daily_care;companionship,东城社区,43.9890,119.3900,否
"""

OFFICERS_CSV = """\
姓名,电话,角色
王海燕,138 0476 0001,值班员
李春雷,138 0476 0002,值班员
赵建国,150 0476 0003,主管
"""

# (line, tier, officer phone, start hour, end hour) for a 24-hour day; tier 2 is the supervisor all day.
_SHIFTS = (
    ("elderly", 1, "13804760001", 0, 12), ("elderly", 1, "13804760002", 12, 24),
    ("elderly", 2, "15004760003", 0, 24),
    ("child", 1, "13804760002", 0, 12), ("child", 1, "13804760001", 12, 24),
    ("child", 2, "15004760003", 0, 24),
)


def rota_csv(day_start: datetime, days: int = DEMO_ROTA_DAYS) -> str:
    """The demo rota from `day_start` for `days` days, local times (no offset) so the importer applies the zone."""
    lines = ["officer_phone,line,tier,starts_at,ends_at"]
    for day in range(days):
        first = day_start + timedelta(days=day)
        for line, tier, phone, start, end in _SHIFTS:
            starts = (first + timedelta(hours=start)).strftime("%Y-%m-%d %H:%M")
            ends = (first + timedelta(hours=end)).strftime("%Y-%m-%d %H:%M")
            lines.append(f"{phone},{line},{tier},{starts},{ends}")
    return "\n".join(lines) + "\n"


def load_demo(session: Session, tz: ZoneInfo, now: datetime) -> bool:
    """Load the demo registry and today's rota when no residents, technicians or officers exist (caller commits)."""
    for model in (Resident, Technician, Officer):
        if session.scalar(select(model.id).limit(1)) is not None:
            return False
    # Naive wall-clock midnight: the CSV carries local times, exactly as a clerk would type them.
    day_start = datetime.combine(now.astimezone(tz).date(), time())
    for kind, text in (("residents", RESIDENTS_CSV), ("technicians", TECHNICIANS_CSV),
                       ("officers", OFFICERS_CSV), ("rota", rota_csv(day_start))):
        result = import_csv(session, kind, text.encode("utf-8"), tz)
        if not result.ok:
            # The demo text is ours: a failure here is a bug, not user input.
            raise RuntimeError(f"demo {kind} did not import: {[e.message for e in result.errors]}")
    load_services(session, tz, now)
    return True


DEMO_USERS = (("admin", "admin", "管理员"), ("dispatcher", "dispatcher", "调度员小王"),
              ("duty", "duty_officer", "值班员小李"))
DEMO_LOGINS_FILE = "demo_logins.txt"


def ensure_demo_users(session: Session, instance: Path) -> list[tuple[str, str, str]]:
    """With no console users yet: one per role, random passwords kept in instance/ (0600); returns the logins.

    The passwords are per installation, never fixed in the code: a demo that is later used for real has
    no known password. Later runs read them back for the `make run` banner.
    """
    from hotline.staff import create_user

    path = Path(instance) / DEMO_LOGINS_FILE
    if session.scalar(select(StaffUser.id).limit(1)) is None:
        logins = [(name, role, secrets.token_urlsafe(9)) for name, role, _ in DEMO_USERS]
        for (name, role, password), (_, _, display) in zip(logins, DEMO_USERS):
            create_user(session, name, password, role, display)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{n} {r} {p}\n" for n, r, p in logins), encoding="utf-8")
        path.chmod(0o600)
        return logins
    if not path.exists():
        return []
    return [tuple(line.split(" ", 2)) for line in path.read_text(encoding="utf-8").splitlines() if line.count(" ") == 2]


def forget_demo_login(instance: Path, username: str) -> None:
    """After a new password: drop the user's line from instance/demo_logins.txt, so the banner shows no stale one."""
    path = Path(instance) / DEMO_LOGINS_FILE
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if line.split(" ", 1)[0] != username]
    if kept != lines:
        path.write_text("".join(kept), encoding="utf-8")
