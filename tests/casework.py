"""Builders for casework tests: a case in a given state, supervisors, and intakes as an officer would submit them."""
from __future__ import annotations

from datetime import timedelta

from dispatch.intake import ChildForm, IntakeForm
from models import Case, Officer, case_event, utcnow

CALLER = "+8613904761234"
SUPERVISOR_A, SUPERVISOR_B = "+8613800009001", "+8613800009002"
CHILD_NAME = "小明"


def make_case(db, code: str = "123456", status: str = "answered", caller: str = CALLER,
              minutes_ago: int = 0) -> Case:
    """A case of `status` with its first event, committed."""
    case = Case(code=code, status=status, caller=caller, call_sid="CA" + code.rjust(32, "0"),
                created_at=utcnow() - timedelta(minutes=minutes_ago))
    db.add(case)
    case_event(db, case, "call", "incoming call")
    db.commit()
    return case


def supervisors(db) -> list[Officer]:
    """Two active supervisors and an ordinary officer (who is not told about police reports)."""
    rows = [Officer(name="赵建国", phone=SUPERVISOR_A, role="supervisor"),
            Officer(name="钱督导", phone=SUPERVISOR_B, role="supervisor"),
            Officer(name="王海燕", phone="+8613800002001", role="officer")]
    db.add_all(rows)
    db.commit()
    return rows[:2]


def child(**fields) -> ChildForm:
    """A child as typed in the form (a name, a sex and an age unless given)."""
    values = {"name": CHILD_NAME, "sex": "male", "age": "9", "township": "林东镇", "village": "东城村"}
    values.update(fields)
    return ChildForm(**values)


def counted_intake(risk: str = "urgent", categories=(("family", "conflict"),), children=None,
                   summary: str = "孩子说父母经常吵架") -> IntakeForm:
    """A counted intake (a child about themself) with one child unless given."""
    return IntakeForm(contact_type="child_self", risk_level=risk, summary=summary,
                      children=tuple(children if children is not None else [child()]),
                      categories=tuple(categories))


def critical_intake(**fields) -> IntakeForm:
    """A critical intake with a violence category: a police report is required."""
    return counted_intake(risk="critical", categories=(("violence", "physical"),), **fields)
