"""Repeat contacts: earlier cases from the same caller's number (found by number, never shown with it), and the
links an officer makes between two cases about the same child.

A link is stored once per pair, the lower case id first (CaseLink's `ordered` check); linking or unlinking writes
an event and an access-log row on both cases. Every function leaves the commit to the caller.
"""
from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Case, CaseLink, case_event, log_access
from models.phone import try_normalise

from .texts import render


def identifiable(caller: str | None) -> bool:
    """Whether a caller's number identifies a phone: a valid E.164 number (not empty, `anonymous`, restricted)."""
    return bool(caller) and try_normalise(caller) == caller


def earlier_contacts(session: Session, case: Case) -> list[Case]:
    """Cases from the same number before this one, newest first; none for an empty or anonymous caller."""
    if not identifiable(case.caller):
        return []
    return list(session.scalars(
        select(Case).where(Case.caller == case.caller, Case.id != case.id,
                           or_(Case.created_at < case.created_at,
                               (Case.created_at == case.created_at) & (Case.id < case.id)))
        .order_by(Case.created_at.desc(), Case.id.desc())))


def linked_cases(session: Session, case: Case) -> list[Case]:
    """The cases linked to this one as the same child, oldest first."""
    other_ids = [other for one, other in session.execute(
        select(CaseLink.case_id, CaseLink.other_case_id)
        .where(or_(CaseLink.case_id == case.id, CaseLink.other_case_id == case.id)))
        for other in (one, other) if other != case.id]
    if not other_ids:
        return []
    return list(session.scalars(select(Case).where(Case.id.in_(other_ids)).order_by(Case.created_at, Case.id)))


def _pair(case: Case, other: Case) -> tuple[int, int]:
    return (case.id, other.id) if case.id < other.id else (other.id, case.id)


def _link_of(session: Session, case: Case, other: Case) -> CaseLink | None:
    low, high = _pair(case, other)
    return session.scalar(select(CaseLink).where(CaseLink.case_id == low, CaseLink.other_case_id == high))


def _write_both(session: Session, case: Case, other: Case, kind: str, actor: str, lang: str, now: datetime,
                route: str, remote_addr: str) -> None:
    for one, two in ((case, other), (other, case)):
        case_event(session, one, kind, render(lang, f"{kind}_event", code=two.code), actor=actor)
    log_access(session, actor, [case.id, other.id], route or kind, f"write:{kind}", remote_addr, at=now)


def link_cases(session: Session, case: Case, other: Case | None, actor: str, lang: str, now: datetime,
               route: str = "", remote_addr: str = "") -> str | None:
    """Link two cases as the same child; a text key refusing it (unknown, itself, linked already) or None."""
    if other is None:
        return "intake.err_link_unknown"
    if other.id == case.id:
        return "intake.err_link_self"
    if _link_of(session, case, other) is not None:
        return "intake.err_link_exists"
    low, high = _pair(case, other)
    try:
        with session.begin_nested():  # two officers linking the same pair at once: the unique pair decides
            session.add(CaseLink(case_id=low, other_case_id=high, kind="same_child", created_at=now,
                                 created_by=actor[:100]))
    except IntegrityError:  # the unique pair: the other officer was first
        return "intake.err_link_exists"
    _write_both(session, case, other, "link", actor, lang, now, route, remote_addr)
    return None


def unlink_cases(session: Session, case: Case, other: Case | None, actor: str, lang: str, now: datetime,
                 route: str = "", remote_addr: str = "") -> str | None:
    """Remove the link between two cases; a text key refusing it (unknown, not linked) or None."""
    if other is None or other.id == case.id:
        return "intake.err_link_unknown"
    low, high = _pair(case, other)
    gone = cast(CursorResult, session.execute(
        delete(CaseLink).where(CaseLink.case_id == low, CaseLink.other_case_id == high)
        .execution_options(synchronize_session=False))).rowcount
    if not gone:
        return "intake.err_link_missing"
    _write_both(session, case, other, "unlink", actor, lang, now, route, remote_addr)
    return None
