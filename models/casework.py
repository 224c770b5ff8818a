"""Child-protection casework after the call: the children concerned, categories, tasks, links, and the
village and township workers (儿童主任 / 儿童督导员) and partners who do the tasks.

The vocabularies (contact types, categories, risk levels, task kinds and their deadlines) are data in
dispatch/taxonomy/child_cases.json; the columns here store their codes, and the console shows their labels.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .base import Base, UTCDateTime, sql_in, utcnow
from .lifecycle import TaskStatus

SEXES = ("female", "male", "unknown")
LIVING = ("with_parents", "left_behind", "with_grandparents", "in_care", "no_fixed_home", "unknown")
CHILD_FLAGS = ("disability", "hardship", "orphan")  # orphan: also 事实无人抚养 (de facto without a carer)
# Who does a case's tasks: the village child director, the township child supervisor, or a partner.
WORKER_ROLES = ("child_director", "child_supervisor", "school", "hospital", "legal_aid", "counselling")
LINK_KINDS = ("same_child",)


class CaseChild(Base):
    """One child a case is about (a case may concern several); a name may be an alias."""

    __tablename__ = "case_children"
    __table_args__ = (CheckConstraint(f"sex {sql_in(SEXES)}", name="sex"),
                      CheckConstraint(f"living {sql_in(LIVING)}", name="living"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    sex: Mapped[str] = mapped_column(String(10), default="unknown")
    age: Mapped[int | None] = mapped_column(Integer)
    age_band: Mapped[str] = mapped_column(String(20), default="")  # when the age is not known: "0-5", "6-11" ...
    township: Mapped[str] = mapped_column(String(100), default="")
    village: Mapped[str] = mapped_column(String(100), default="")
    school: Mapped[str] = mapped_column(String(200), default="")
    living: Mapped[str] = mapped_column(String(30), default="unknown")
    disability: Mapped[bool] = mapped_column(Boolean, default=False)
    hardship: Mapped[bool] = mapped_column(Boolean, default=False)
    orphan: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by the retention command: the identity above has been wiped.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseCategory(Base):
    """One category of a case: a top level and (optionally) a sub-category, codes of the taxonomy."""

    __tablename__ = "case_categories"
    __table_args__ = (UniqueConstraint("case_id", "category", "sub", name="uq_case_categories_case_category_sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    sub: Mapped[str] = mapped_column(String(40), default="")


class CaseLink(Base):
    """Two cases an officer says are about the same child (repeat callers are found by number, not stored)."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_id", "other_case_id", name="uq_case_links_pair"),
                      CheckConstraint(f"kind {sql_in(LINK_KINDS)}", name="kind"),
                      CheckConstraint("case_id < other_case_id", name="ordered"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    other_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="same_child")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class CaseWorker(Base):
    """A person outside the console who does casework tasks: a village 儿童主任, a township 儿童督导员, or a
    partner (school, hospital, legal aid, counselling). Imported by CSV like the other registries."""

    __tablename__ = "case_workers"
    __table_args__ = (CheckConstraint(f"role {sql_in(WORKER_ROLES)}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    role: Mapped[str] = mapped_column(String(30), default="child_director")
    township: Mapped[str] = mapped_column(String(100), default="", index=True)
    village: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CaseTask(Base):
    """A piece of follow-up work on a case for a case worker: a home visit, a relief application, a referral.

    Sent by SMS without the child's name; the worker replies `收到 CODE` / `完成 CODE 说明` with the case code,
    or staff record the outcome. Overdue tasks alert the duty officers (round 1), then the supervisors (2).
    """

    __tablename__ = "case_tasks"
    __table_args__ = (CheckConstraint(f"status {sql_in(TaskStatus)}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # a task kind of the taxonomy
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("case_workers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.OPEN.value, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(Text, default="")  # what was done, or why it was cancelled
    finished_by: Mapped[str] = mapped_column(String(100), default="")  # the worker by SMS or a console user
    # Overdue alert rounds sent so far and when the next is due: the pending work, derivable from this row.
    overdue_round: Mapped[int] = mapped_column(Integer, default=0)
    next_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    assignee: Mapped[CaseWorker | None] = relationship()


def worker_by_phone(session: Session, phone: str | None) -> CaseWorker | None:
    """The active case worker with this number, if any."""
    if not phone:
        return None
    return session.scalar(select(CaseWorker).where(CaseWorker.phone == phone, CaseWorker.active.is_(True)))
