"""Service orders of the elderly line, their timeline and the offers made to technicians."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .base import Base, UTCDateTime, sql_in, utcnow
from .codes import draw_code
from .lifecycle import ORDER_OPEN, ORDER_TRANSITIONS, OfferStatus, OrderStatus, apply_to, move
from .people import Resident, Technician

MAX_OFFERS = 5

_OPEN_SQL = f"status {sql_in(ORDER_OPEN)}"


class Order(Base):
    """One request for service; its code is read to the caller and used in SMS replies."""

    __tablename__ = "orders"
    __table_args__ = (
        # A code identifies an order only while it is open; closed codes may be reused.
        Index("uq_orders_open_code", "code", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("ix_orders_status_created", "status", "created_at"),
        CheckConstraint(f"status {sql_in(OrderStatus)}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), index=True)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING.value)
    category: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(200), default="")
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    unregistered: Mapped[bool] = mapped_column(Boolean, default=False)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The arrival clock: set when an accepted order was not `arrived` within SLA_ARRIVAL_MINUTES.
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    # On completion: whether the technician was at the door within the promised minutes of accepting.
    promise_kept: Mapped[bool | None] = mapped_column(Boolean)
    # The satisfaction callback after completion: queued once (this stamp is the guard), rated 1/2/3.
    satisfaction_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by a rating of 3 (or by staff); cleared when staff record their follow-up.
    needs_follow_up: Mapped[bool] = mapped_column(Boolean, default=False)

    resident: Mapped[Resident | None] = relationship()
    technician: Mapped[Technician | None] = relationship()
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", order_by="OrderEvent.id")
    offers: Mapped[list[OfferAttempt]] = relationship(back_populates="order", order_by="OfferAttempt.id")

    @property
    def is_emergency(self) -> bool:
        """Emergency orders are offered to several technicians at once."""
        return self.category == "emergency"

    @property
    def callback_phone(self) -> str | None:
        """The number to reach the resident on: the one they called from, else their first."""
        if self.caller_phone:
            return self.caller_phone
        return self.resident.primary_phone if self.resident else None


class OrderEvent(Base):
    """One step in an order's life: status changes, offers, replies, notifications."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="system")

    order: Mapped[Order] = relationship(back_populates="events")


class OfferAttempt(Base):
    """An order offered to one technician; answered, expired or superseded."""

    __tablename__ = "offer_attempts"
    __table_args__ = (Index("uq_offer_order_tech", "order_id", "technician_id", unique=True),
                      CheckConstraint(f"status {sql_in(OfferStatus)}", name="status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=OfferStatus.PENDING.value)
    distance_km: Mapped[float | None]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    round: Mapped[int] = mapped_column(Integer, default=1)

    order: Mapped[Order] = relationship(back_populates="offers")
    technician: Mapped[Technician] = relationship()


def add_event(session: Session, order: Order, kind: str, detail: str = "", actor: str = "system") -> OrderEvent:
    """Append an event to an order's timeline (caller commits)."""
    event = OrderEvent(order=order, kind=kind, detail=detail, actor=actor, at=utcnow())
    session.add(event)
    return event


def set_status(session: Session, order: Order, status: str, actor: str = "system", detail: str = "") -> None:
    """Move an order to `status` as ORDER_TRANSITIONS says: its stamp, its event (caller commits).

    A move the table does not allow from the order's status raises ValueError and changes nothing; the fast
    paths' conditional UPDATEs check the same sources in the statement.
    """
    transition = move(ORDER_TRANSITIONS, order, status)
    apply_to(order, transition, utcnow())
    add_event(session, order, transition.event, detail, actor)


def new_code(session: Session) -> str:
    """A random 6-digit code not used by any open order (the unique index is the final guard)."""
    for _ in range(50):
        code = draw_code()
        taken = session.scalar(select(Order.id).where(Order.code == code, Order.status.in_(ORDER_OPEN)))
        if taken is None:
            return code
    raise RuntimeError("no free order code")


def open_order_by_code(session: Session, code: str) -> Order | None:
    """The open order with this code, if any."""
    return session.scalar(select(Order).where(Order.code == code, Order.status.in_(ORDER_OPEN)))
