"""Rows of the case-worker registry file: village 儿童主任, township 儿童督导员, and partners (school, hospital,
legal aid, counselling).

  case_workers  name 姓名 | phone 电话 | role 角色 | township 乡镇 (also 镇, 苏木乡镇) | village 村 (also 嘎查村) |
                active 在岗

Required columns: name, phone, role, township. role: the codes (child_director, child_supervisor, school,
hospital, legal_aid, counselling) or 儿童主任 儿童督导员 学校 医院 法律援助 心理辅导 (also 督导员, 心理咨询).
A 儿童主任 needs a township and a village, a 儿童督导员 a township; partners may leave them blank.
Workers are matched by phone; a missing village or active column leaves those fields of existing workers alone.
"""
from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.registry.csv_rows import Row, RowError, Table, parse_active, parse_choice, parse_phone
from models import WORKER_ROLES, CaseWorker
from models.phone import mask

ROLE_NAMES = {"child_director": "儿童主任", "child_supervisor": "儿童督导员", "school": "学校", "hospital": "医院",
              "legal_aid": "法律援助", "counselling": "心理辅导"}
_ROLES = {**{code: code for code in WORKER_ROLES}, **{zh: code for code, zh in ROLE_NAMES.items()},
          "督导员": "child_supervisor", "心理咨询": "counselling", "counseling": "counselling"}
parse_worker_role = partial(parse_choice, choices=_ROLES, key="unknown_worker_role")
# Where each role must say where it works: the child's village and township pick its 儿童主任 and 儿童督导员.
PLACE_REQUIRED = {"child_director": ("township", "village"), "child_supervisor": ("township",)}


def _limit(column: str) -> int:
    return CaseWorker.__table__.c[column].type.length


def plan_case_workers(session: Session, table: Table, errors: list[RowError]) -> list[tuple[Any, dict]]:
    """Validate every row of a case-worker file: (existing worker or None, values) per good row."""
    planned: list[tuple[Any, dict]] = []
    phone_lines: dict[str, int] = {}
    for line, cells in table.rows:
        row = Row(line, cells, table.columns, errors)
        values: dict = {"name": row.text("name", _limit("name"), required=True)}
        role = row.parse("role", parse_worker_role, required=True)
        values["role"] = role
        values["township"] = row.text("township", _limit("township"))
        if row.has("village"):
            values["village"] = row.text("village", _limit("village"))
        for column in PLACE_REQUIRED.get(role or "", ()):
            if not values.get(column) and not row.failed:
                row.error("place_required", col=column, role=role, role_zh=ROLE_NAMES[role])
        if row.has("active"):
            active = row.parse("active", parse_active)
            values["active"] = True if active is None else active
        phone = row.parse("phone", parse_phone, required=True)
        if phone is None:
            continue
        if phone in phone_lines:
            row.error("duplicate_phone", value=mask(phone), other=phone_lines[phone])
        phone_lines.setdefault(phone, line)
        values["phone"] = phone
        if not row.failed:
            # Active or not: an import may switch a worker back on.
            planned.append((session.scalar(select(CaseWorker).where(CaseWorker.phone == phone)), values))
    return planned
