"""Numbers, readers of offers and sends, and a fast reconciler shared by the queue-side reliability tests.

Workers that must die or keep running are real `worker.py` subprocesses (tests/live.py); the fake Twilio
holds a request open (`delay_next`) so a signal lands in the middle of a send.
"""
from __future__ import annotations

from sqlalchemy import select

from models import Message

T1, T2 = "+8613800000001", "+8613800000002"
# A worker whose reconcile thread runs every second and treats a job 1 s overdue as lost.
FAST_RECONCILE = {"dispatch.reconcile.RECONCILE_INTERVAL_SECONDS": 1, "dispatch.reconcile.OVERDUE_GRACE_SECONDS": 1}


def _offer_row(db) -> Message:
    db.expire_all()
    return db.scalars(select(Message).where(Message.key.like("offer:%"))).one()
