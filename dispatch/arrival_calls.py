"""The arrival call (issue 15): an automated call asks the resident whether the technician is there.

Key 1 verifies the visit; 2 disputes it: the elderly-line officers on duty get an SMS at once and the order
is flagged for follow-up. Silence (or a call nobody answers) is tried once more ARRIVAL_CALL_RETRY_MINUTES
later; as long again after the last try the visit is left unverified. Each try is one outbox row under the
unique key `arrival:<visit id>:<try>`, and the visit's `verify_attempts` / `next_verify_at` are the record
of what is owed, so a re-run places nothing twice and the reconciler recovers a lost job.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from models import Order, OrderStatus, Verification, Visit, add_event, escalation_chain
from models.phone import mask, national

from . import deferred
from .deferred import Work
from .outbox import queue_message
from .providers import CallScript, KeyQuestion, Target
from .settings import DispatchSettings
from .texts import render

log = logging.getLogger(__name__)
TRIES = 2  # the "no answer after two tries"
CONFIRM, DISPUTE = "1", "2"
KEYS = CONFIRM + DISPUTE
# Older residents need time to find the key.
WAIT_SECONDS = 10


def call_script(settings: DispatchSettings, visit_id: int, attempt: int) -> str:
    """The call: the question said slowly twice inside a one-key Gather; the key goes to the arrival webhook."""
    answer = Target("arrival", {"visit": visit_id, "try": attempt})
    sentence = render(settings.ivr_language, "arrival_call")
    return CallScript(settings.ivr_language, (sentence,), repeat=2,
                      question=KeyQuestion(KEYS, WAIT_SECONDS, answer)).to_body()


def verify_arrival(session: Session, visit_id: int, attempt: int, settings: DispatchSettings,
                   now: datetime) -> Work:
    """Place try `attempt` of the visit's arrival call, or past the last try leave it unverified; idempotent:
    an answered visit, a try already placed, or an early run (come back on time) changes nothing (caller commits)."""
    visit = session.get(Visit, visit_id, with_for_update=True)
    if visit is None or visit.verification != Verification.PENDING or visit.verify_attempts >= attempt:
        return []
    if visit.next_verify_at is not None and now < visit.next_verify_at:
        return [deferred.verify_arrival(visit.id, attempt, visit.next_verify_at)]
    order = cast(Order, session.get(Order, visit.order_id))  # the visit's foreign key
    if order.status == OrderStatus.CANCELLED:  # staff cancelled the order: nobody to ask about
        visit.next_verify_at = None
        return []
    if attempt > TRIES:
        visit.verification, visit.next_verify_at = Verification.UNVERIFIED.value, None
        add_event(session, order, "visit_unverified", f"no answer after {TRIES} calls")
        log.info("order %s: arrival not confirmed after %d calls", order.code, TRIES)
        return []
    phone = order.callback_phone
    if not phone:  # the number was removed since the visit opened
        visit.verification, visit.next_verify_at = Verification.UNVERIFIED.value, None
        add_event(session, order, "visit_unverified", "no phone to call the resident on")
        return []
    visit.verify_attempts = attempt
    visit.next_verify_at = now + timedelta(minutes=settings.arrival_call_retry_minutes)
    message = queue_message(session, f"arrival:{visit.id}:{attempt}", phone,
                            call_script(settings, visit.id, attempt), channel="call", order_id=order.id)
    add_event(session, order, "arrival_call", str(attempt))
    log.info("order %s: arrival call %d to %s queued", order.code, attempt, mask(phone))
    return [deferred.send(message.id), deferred.verify_arrival(visit.id, attempt + 1, visit.next_verify_at)]


def record_answer(session: Session, visit: Visit, key: str, settings: DispatchSettings, now: datetime) -> Work:
    """The resident's key on the arrival call: 1 verifies, 2 disputes (officers alerted, order flagged).
    Only the first answer of a pending visit counts; returns the alerts to send (caller commits)."""
    verdict = Verification.VERIFIED if key == CONFIRM else Verification.DISPUTED
    won = cast(CursorResult, session.execute(  # a DML statement's result is a CursorResult
        update(Visit).where(Visit.id == visit.id, Visit.verification == Verification.PENDING.value)
        .values(verification=verdict.value, verified_at=now, next_verify_at=None)
        .execution_options(synchronize_session=False)
    )).rowcount == 1
    if not won:
        return []
    session.refresh(visit)
    order = cast(Order, session.get(Order, visit.order_id))
    if verdict == Verification.VERIFIED:
        add_event(session, order, "visit_verified", "resident pressed 1", actor="resident")
        return []
    order.needs_follow_up = True
    add_event(session, order, "visit_disputed", "resident pressed 2", actor="resident")
    add_event(session, order, "needs_follow_up", "the resident said nobody came", actor="resident")
    log.warning("order %s: the resident says the technician has not arrived", order.code)
    return _alert_officers(session, order, settings, now)


def _alert_officers(session: Session, order: Order, settings: DispatchSettings, now: datetime) -> Work:
    """An SMS to every elderly-line officer on duty (the supervisors when nobody is), as the escalations do."""
    tech, resident = order.technician, order.resident
    body = render(settings.ivr_language, "arrival_disputed", code=order.code, tech=tech.name if tech else "",
                  tech_phone=national(tech.phone) if tech else "", name=resident.name if resident else "",
                  phone=national(order.callback_phone))
    officers = {o.id: o for tier in escalation_chain(session, "elderly", now) for o in tier}
    follow = [deferred.send(queue_message(session, f"arrival-disputed:{order.id}:{officer.id}", officer.phone,
                                          body, order_id=order.id).id) for officer in officers.values()]
    add_event(session, order, "alert", f"arrival disputed: {len(follow)} officer(s)")
    return follow


def overdue_verifications(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: pending visits whose next try (or the end of the last one) was due before `cutoff`."""
    return [deferred.verify_arrival(visit_id, attempts + 1, at) for visit_id, attempts, at in session.execute(
        select(Visit.id, Visit.verify_attempts, Visit.next_verify_at)
        .where(Visit.verification == Verification.PENDING.value, Visit.next_verify_at <= cutoff))]
