"""Synthetic registries: residents with phones and technicians with skills around 林东镇, in bulk."""
from __future__ import annotations

import random
from datetime import datetime, timezone

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from hotline.registry.demo import load_demo
from models import CATEGORY_CODES, Resident, ResidentPhone, Technician, utcnow

CENTRE = (43.98, 119.39)        # 林东镇, Balinzuo Banner
SPREAD_DEG = 0.3                # about ±33 km north-south: the banner's towns and villages
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "桂兰凤英振海玉梅秀芳建军志刚德胜丽娟海波淑珍春雷国华明亮巴特尔乌力吉其其格娜仁花宝音图"
RESIDENT_PREFIX = "+86137"      # synthetic but valid mobiles, apart from the demo's 138/139/150/159/186
TECH_PREFIX = "+86135"
CHUNK = 5000


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 3))))


def _point(rng: random.Random) -> tuple[float, float]:
    return CENTRE[0] + rng.uniform(-SPREAD_DEG, SPREAD_DEG), CENTRE[1] + rng.uniform(-SPREAD_DEG, SPREAD_DEG) * 1.4


def resident_phone(i: int) -> str:
    """The synthetic resident number of index i."""
    return f"{RESIDENT_PREFIX}{i:08d}"


def seed_demo(session: Session, tz) -> None:
    """The demo registry (residents, technicians, officers, a week of rota), as `make run` loads it."""
    load_demo(session, tz, utcnow())
    session.commit()


def seed_residents(session: Session, count: int, seed: int = 1) -> None:
    """`count` residents, each with one mobile number, spread over the banner."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    for start in range(0, count, CHUNK):
        rows = []
        for _ in range(start, min(count, start + CHUNK)):
            lat, lng = _point(rng)
            rows.append({"name": _name(rng), "address": f"林东镇{rng.randint(1, 60)}社区{rng.randint(1, 40)}号楼"
                         f"{rng.randint(1, 6)}单元{rng.randint(101, 1802)}室", "community": "社区",
                         "lat": lat, "lng": lng, "advanced_age": rng.random() < 0.4, "hardship": False,
                         "empty_nest": rng.random() < 0.3, "left_behind": False, "emergency_contact": "",
                         "active": True, "created_at": now, "updated_at": now})
        ids = session.scalars(insert(Resident).returning(Resident.id, sort_by_parameter_order=True), rows).all()
        session.execute(insert(ResidentPhone), [{"resident_id": rid, "phone": resident_phone(start + k)}
                                                for k, rid in enumerate(ids)])
    session.commit()


def replace_technicians(session: Session, count: int, seed: int = 2) -> None:
    """Delete the synthetic technicians and insert `count` new ones (1-3 skills, 90% active)."""
    session.execute(delete(Technician).where(Technician.phone.like(f"{TECH_PREFIX}%")))
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    for start in range(0, count, CHUNK):
        rows = []
        for i in range(start, min(count, start + CHUNK)):
            lat, lng = _point(rng)
            skills = ";".join(rng.sample(CATEGORY_CODES, rng.choice((1, 2, 2, 3))))
            rows.append({"name": _name(rng), "phone": f"{TECH_PREFIX}{i:08d}", "skills": skills,
                         "community": "社区", "lat": lat, "lng": lng, "active": rng.random() < 0.9,
                         "created_at": now, "updated_at": now})
        session.execute(insert(Technician), rows)
    session.commit()
    analyze(session)


def analyze(session: Session) -> None:
    """Table statistics, as autovacuum keeps them on a production server (this machine's runs without it):
    without them PostgreSQL plans the benchmarks' queries blind."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()


def resident_ids(session: Session, limit: int) -> list[int]:
    """Ids of synthetic residents with a location, for orders."""
    return list(session.scalars(select(Resident.id).where(Resident.lat.is_not(None)).order_by(Resident.id)
                                .limit(limit)))


def counts(session: Session) -> dict[str, int]:
    """How many residents and technicians the database holds."""
    return {"residents": session.scalar(select(func.count(Resident.id))),
            "technicians": session.scalar(select(func.count(Technician.id)))}
