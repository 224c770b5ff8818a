"""Whom a console user may play in the softphone: the role split of the console, applied to phone numbers.

A dispatcher plays residents, technicians and unknown callers on the elderly line; a duty officer plays
officers, child-line callers and unknown callers on the child line; an admin plays anyone on either line.
A number with several owners (an officer who is also a resident) is played only by a user who may play
every one of them. Refusals name the console text to show; nothing is posted.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.console.auth import current_user
from hotline.softphone.calls import SoftphoneError
from models import Case, Officer, ResidentPhone, Technician

# What a number can be, and which console roles may act as it.
PLAYS = {"dispatcher": frozenset({"resident", "technician"}),
         "duty_officer": frozenset({"officer", "case_caller"})}
LINES = {"dispatcher": ("elderly",), "duty_officer": ("child",)}
ALL_KINDS = frozenset({"resident", "technician", "officer", "case_caller"})


def playable_kinds() -> frozenset[str]:
    """The kinds of number the current user may play (as caller, SMS sender or inbox reader)."""
    user = current_user()
    if user is None:
        return frozenset()
    return ALL_KINDS if user.role == "admin" else PLAYS.get(user.role, frozenset())


def lines() -> tuple[str, ...]:
    """The lines the current user may call or text."""
    user = current_user()
    if user is None:
        return ()
    return ("elderly", "child") if user.role == "admin" else LINES.get(user.role, ())


def kinds_of(session: Session, number: str) -> set[str]:
    """Whose number this is: resident, technician, officer, case_caller (a child-line caller); empty for nobody."""
    found = set()
    if session.scalar(select(ResidentPhone.id).where(ResidentPhone.phone == number).limit(1)) is not None:
        found.add("resident")
    if session.scalar(select(Technician.id).where(Technician.phone == number).limit(1)) is not None:
        found.add("technician")
    if session.scalar(select(Officer.id).where(Officer.phone == number).limit(1)) is not None:
        found.add("officer")
    if session.scalar(select(Case.id).where(Case.caller == number).limit(1)) is not None:
        found.add("case_caller")
    return found


def check_number(session: Session, number: str) -> None:
    """Refuse (403) a number the current user may not play: one of its owners is outside their role."""
    if not playable_kinds() or not kinds_of(session, number) <= playable_kinds():
        raise SoftphoneError("softphone.error_not_playable", 403)


def check_line(line: str) -> None:
    """Refuse (403) a line the current user may not call or text (an unknown line stays a 400)."""
    if line in ("elderly", "child") and line not in lines():
        raise SoftphoneError("softphone.error_line_not_yours", 403)
