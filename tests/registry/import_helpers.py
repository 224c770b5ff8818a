"""A real SQLite session, sample registry files and readers of import results, shared by the importer tests."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hotline.registry.importer import import_csv
from models import Officer, Resident, ResidentPhone, RotaShift, Technician

SHANGHAI = ZoneInfo("Asia/Shanghai")

RESIDENTS = """\
name,phone,address,community,lat,lng,birth_date,categories,emergency_contact
张桂兰,139 0476 1234;0476-8223344,林东镇东城社区3号楼2单元,东城社区,43.98,119.39,1941-05-12,advanced_age;empty_nest,儿子
王凤英,150 4768 2201,林东镇西城社区7号楼1单元,西城社区,,,1949/10/3,困难,
"""
OFFICERS = "name,phone,role\n王海燕,138 0476 0001,\n赵建国,150 0476 0003,主管\n"


@pytest.fixture
def session(tmp_path):
    from models import Base, make_engine, make_session_factory
    engine = make_engine(f"sqlite:///{tmp_path}/t.db")
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as s:
        yield s
    engine.dispose()


def run(session, kind, text, encoding="utf-8", tz=SHANGHAI):
    return import_csv(session, kind, text.encode(encoding), tz)


def counts(session):
    return {m.__name__: session.scalar(select(func.count()).select_from(m))
            for m in (Resident, ResidentPhone, Technician, Officer, RotaShift)}
