"""The chaos database: created fresh on the machine's PostgreSQL, migrated, seeded, dropped at the end."""
from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from .infra import PROJECT_ROOT

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hotline_chaos"
TECHNICIANS = 30
RESIDENTS = 20
# Skills rotate so every category the driver asks for (2 housekeeping, 1 daily care, 5 emergency) has people.
SKILLS = ("housekeeping;daily_care", "emergency;daily_care", "housekeeping;emergency")


def technician_phone(i: int) -> str:
    return f"+86138047720{i:02d}"


def resident_phone(i: int) -> str:
    return f"+86139047730{i:02d}"


def _split(url: str) -> tuple[str, str]:
    """(URL of the maintenance database `postgres`, name of the chaos database)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or not name.replace("_", "").isalnum() or "chaos" not in name:
        # The run drops and recreates this database: never let a typo point it at real data.
        raise ValueError(f"--database-url needs a plain database name containing 'chaos', got {name!r}")
    return urlunsplit((parts.scheme.replace("postgresql+psycopg", "postgresql"), parts.netloc, "/postgres",
                       parts.query, "")), name


def _admin(url: str):
    admin_url, name = _split(url)
    return psycopg.connect(admin_url, autocommit=True, connect_timeout=10), name


def recreate(url: str) -> None:
    """Drop the chaos database if it exists (ending its stale sessions) and create it empty."""
    conn, name = _admin(url)
    with conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop(url: str) -> None:
    conn, name = _admin(url)
    with conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def migrate(env: dict) -> None:
    """`flask --app app db upgrade` against the chaos database, as an operator would run it."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=str(PROJECT_ROOT),
                          env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"db upgrade failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def _technicians_csv() -> str:
    lines = ["name,phone,skills,community,lat,lng,active"]
    for i in range(TECHNICIANS):
        lat = 43.9700 + (i % 6) * 0.004
        lng = 119.3800 + (i // 6) * 0.005
        lines.append(f"混沌技师{i:02d},{technician_phone(i)},{SKILLS[i % 3]},东城社区,{lat:.4f},{lng:.4f},1")
    return "\n".join(lines) + "\n"


def _residents_csv() -> str:
    lines = ["name,phone,address,community,lat,lng,birth_date,categories,emergency_contact"]
    for i in range(RESIDENTS):
        lat = 43.9750 + (i % 5) * 0.003
        lng = 119.3850 + (i // 5) * 0.003
        lines.append(f"混沌居民{i:02d},{resident_phone(i)},林东镇测试社区{i}号楼,测试社区,{lat:.4f},{lng:.4f},"
                     f"1945-01-01,高龄,")
    return "\n".join(lines) + "\n"


def seed(url: str, timezone: str) -> dict:
    """The demo registry and rota, plus technicians and residents enough for a few hundred orders.

    Returns the phone book the driver needs: residents' numbers, technicians', officers'."""
    from sqlalchemy import select

    from hotline.registry.demo import load_demo
    from hotline.registry.importer import import_csv
    from models import Officer, ResidentPhone, Technician, make_engine, make_session_factory, utcnow

    tz = ZoneInfo(timezone)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            if not load_demo(session, tz, utcnow()):
                raise RuntimeError("the chaos database was not empty")
            for kind, text in (("technicians", _technicians_csv()), ("residents", _residents_csv())):
                result = import_csv(session, kind, text.encode("utf-8"), tz)
                if not result.ok:
                    raise RuntimeError(f"chaos {kind} did not import: {[e.message for e in result.errors]}")
            session.commit()
            return {
                "residents": list(session.scalars(select(ResidentPhone.phone).order_by(ResidentPhone.id))),
                "technicians": list(session.scalars(select(Technician.phone).where(Technician.active.is_(True)))),
                "officers": list(session.scalars(select(Officer.phone))),
            }
    finally:
        engine.dispose()
