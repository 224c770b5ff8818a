"""Child-protection line cases: one per call, from the first ring to acknowledgement; and who read them."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from .base import Base, UTCDateTime, sql_in, utcnow
from .casework import CaseCategory, CaseChild, CaseTask
from .codes import draw_code
from .lifecycle import CASE_TRANSITIONS, CaseStatus, apply_to, move
from .people import Officer


class Case(Base):
    """A call to the child-protection line and what became of it."""

    __tablename__ = "cases"
    __table_args__ = (CheckConstraint(f"status {sql_in(CaseStatus)}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.RINGING.value, index=True)
    caller: Mapped[str] = mapped_column(String(32), default="")
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    recording_url: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    # Intake (issue 13): what the officer recorded during or after the call; codes of the taxonomy.
    contact_type: Mapped[str | None] = mapped_column(String(30))
    risk_level: Mapped[str | None] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    intake_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    intake_by: Mapped[str] = mapped_column(String(100), default="")
    # The case's deadline from its risk level at intake (kept: a later change of the rule does not move it).
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    called_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_back_by: Mapped[str] = mapped_column(String(100), default="")
    # Mandatory reporting (强制报告): required by the risk level or a category at intake; recorded once.
    police_required: Mapped[bool] = mapped_column(Boolean, default=False)
    police_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    police_reporter: Mapped[str] = mapped_column(String(100), default="")
    police_station: Mapped[str] = mapped_column(String(200), default="")
    police_report_no: Mapped[str] = mapped_column(String(100), default="")
    police_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    police_recorded_by: Mapped[str] = mapped_column(String(100), default="")
    police_alert_round: Mapped[int] = mapped_column(Integer, default=0)
    police_next_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Alert rounds sent so far and when the next one is due: the pending work, derivable from this row.
    alert_round: Mapped[int] = mapped_column(Integer, default=0)
    next_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    answered_by: Mapped[Officer | None] = relationship(foreign_keys=[answered_by_id])
    acknowledged_by: Mapped[Officer | None] = relationship(foreign_keys=[acknowledged_by_id])
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    children: Mapped[list[CaseChild]] = relationship(cascade="all, delete-orphan", order_by="CaseChild.id")
    categories: Mapped[list[CaseCategory]] = relationship(cascade="all, delete-orphan",
                                                          order_by="CaseCategory.id")
    tasks: Mapped[list[CaseTask]] = relationship(cascade="all, delete-orphan", order_by="CaseTask.id")


class CaseEvent(Base):
    """One step of a case: a tier rung and its outcome, an answer, a message, an alert round, an acknowledgement."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="system")

    case: Mapped[Case] = relationship(back_populates="events")


# Every action an access-log row may name: a closed list, so the access-log page has a label for each in both
# languages (tests/console/test_access_log_labels.py) and a misspelt action fails where it is written.
ACCESS_ACTIONS = (
    "list", "read", "reveal", "listen", "softphone", "export", "export-identified", "report", "export-report",
    "import", "anonymise",
    "write:intake", "write:callback", "write:police", "write:task", "write:ack", "write:close", "write:link",
    "write:unlink",
    "user:create", "user:deactivate", "user:activate", "user:reset-password", "user:end-sessions", "user:set-password",
)


class AccessLog(Base):
    """Who read which case, when, through which route: case data is about children."""

    __tablename__ = "access_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    route: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40), default="read")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")  # why a caller's number was revealed

    @validates("action")
    def _known_action(self, _key: str, action: str) -> str:
        if action not in ACCESS_ACTIONS:
            raise ValueError(f"unknown access-log action {action!r}: add it to ACCESS_ACTIONS and audit.json")
        return action


def log_access(session: Session, actor: str, case_ids: Sequence[int | None], route: str, action: str,
               remote_addr: str = "", reason: str = "", at: datetime | None = None) -> None:
    """One access-log row per case: who read, wrote or exported it, through which route (caller commits).

    Every path to case data logs through here: console pages and exports (`read`, `list`, `export`, `write:*`),
    the JSON API, the CLI (`route` = the command) and SMS from case workers (`route` = "sms"). A case id of None
    logs a use of case data that is about no one case (a report over many, `[None]`: one row)."""
    when = at or utcnow()
    for case_id in case_ids:
        session.add(AccessLog(at=when, actor=actor[:100], case_id=case_id, route=route[:200], action=action[:40],
                              remote_addr=remote_addr[:64], reason=reason))


def case_event(session: Session, case: Case, kind: str, detail: str = "", actor: str = "system") -> CaseEvent:
    """Append an event to a case (caller commits)."""
    event = CaseEvent(case=case, kind=kind, detail=detail, actor=actor, at=utcnow())
    session.add(event)
    return event


def set_case_status(session: Session, case: Case, status: str, detail: str = "", actor: str = "system",
                    now: datetime | None = None) -> CaseEvent:
    """Move a case to `status` as CASE_TRANSITIONS says: its stamp, its event (caller commits); ValueError for a
    move the table does not allow from the case's status, changing nothing."""
    transition = move(CASE_TRANSITIONS, case, status)
    apply_to(case, transition, now or utcnow())
    return case_event(session, case, transition.event, detail, actor)


def new_case_code(session: Session) -> str:
    """A random 6-digit case code never used before (the unique constraint is the final guard)."""
    for _ in range(50):
        code = draw_code()
        if session.scalar(select(Case.id).where(Case.code == code)) is None:
            return code
    raise RuntimeError("no free case code")


def case_by_call(session: Session, call_sid: str) -> Case | None:
    """The case of a CallSid, if any."""
    return session.scalar(select(Case).where(Case.call_sid == call_sid))


def case_by_code(session: Session, code: str) -> Case | None:
    """The case with this code, if any."""
    return session.scalar(select(Case).where(Case.code == code))
