"""Technicians' numbers and readers of offers and messages shared by the dispatch-through-the-worker tests."""
from __future__ import annotations

from sqlalchemy import select

from models import Message, OfferAttempt

T1, T2, T3, T4, T5, T6 = (f"+86138000000{i:02d}" for i in range(1, 7))


def _offers(db, order_id):
    db.expire_all()
    return list(db.scalars(select(OfferAttempt).where(OfferAttempt.order_id == order_id)
                           .order_by(OfferAttempt.id)))


def _offer_row(db) -> Message:
    db.expire_all()
    return db.scalars(select(Message).where(Message.key.like("offer:%"))).one()
