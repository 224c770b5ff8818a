"""Child-line alerts: every officer of the call's chain is told, again and again, until one acknowledges."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from models import (
    CASE_TRANSITIONS,
    CASE_UNACKNOWLEDGED,
    Case,
    CaseStatus,
    Message,
    Officer,
    case_by_code,
    case_event,
    escalation_chain,
    log_access,
    supervisors,
)
from models.lifecycle import guarded_update
from models.phone import mask, national

from . import deferred
from .deferred import Work
from .event_details import detail as event_detail
from .outbox import queue_message
from .settings import DispatchSettings
from .texts import CATALOGUES, ZH, render
from .voice_messages import acknowledgement_call

log = logging.getLogger(__name__)


def alerted_officers(session: Session, case: Case) -> list[Officer]:
    """Everyone in the chain rung for this call (the rota at the time of the call), and the supervisors."""
    people = {o.id: o for tier in escalation_chain(session, "child", case.created_at) for o in tier}
    for sup in supervisors(session):
        people.setdefault(sup.id, sup)
    return list(people.values())


def start_alerts(session: Session, case: Case, settings: DispatchSettings, now: datetime) -> Work:
    """First alert round for a case left as voicemail or missed; later rounds are scheduled (caller commits)."""
    if case.alert_round > 0 or case.status not in CASE_UNACKNOWLEDGED:
        return []
    return _send_round(session, case, 1, settings, now)


def alert_round(session: Session, case_id: int, round_no: int, settings: DispatchSettings, now: datetime) -> Work:
    """Send round `round_no` unless the case was acknowledged or the round already went out; idempotent."""
    case = session.get(Case, case_id, with_for_update=True)
    if case is None or case.status not in CASE_UNACKNOWLEDGED or case.alert_round >= round_no:
        return []
    if case.next_alert_at is not None and now < case.next_alert_at:  # early (clock skew): come back on time
        return [deferred.alert_round(case.id, round_no, case.next_alert_at)]
    return _send_round(session, case, round_no, settings, now)


def _send_round(session: Session, case: Case, round_no: int, settings: DispatchSettings, now: datetime) -> Work:
    lang = settings.ivr_language
    catalogue = CATALOGUES.get(lang, ZH)
    phone = national(case.caller) or case.caller or "-"
    body = render(lang, "case_alert", code=case.code, status=catalogue["case_status"][case.status], phone=phone)
    follow: Work = []
    officers = alerted_officers(session, case)
    for officer in officers:
        msg = queue_message(session, f"case-alert:{case.id}:{round_no}:{officer.id}", officer.phone, body,
                            case_id=case.id)
        follow.append(deferred.send(msg.id))
    calls = 0
    if round_no > settings.alert_max_repeats:
        sentence = render(lang, "case_call", digits=" ".join(case.code), phone_digits=" ".join(phone))
        for sup in supervisors(session):
            msg = queue_message(session, f"case-call:{case.id}:{round_no}:{sup.id}", sup.phone,
                                acknowledgement_call(lang, sentence, case.code, sup.id), channel="call",
                                case_id=case.id)
            follow.append(deferred.send(msg.id))
            calls += 1
    case.alert_round = round_no
    case.next_alert_at = now + timedelta(seconds=settings.alert_repeat_seconds)
    follow.append(deferred.alert_round(case.id, round_no + 1, case.next_alert_at))
    case_event(session, case, "alert", event_detail("alert_round", round=round_no, sms=len(officers), calls=calls))
    if not officers:
        log.error("case %s needs acknowledgement but no officer or supervisor is registered", case.code)
    log.info("case %s alert round %d to %d officer(s)", case.code, round_no, len(officers))
    return follow


def acknowledge(session: Session, case: Case, officer: Officer | None, via: str, now: datetime,
                actor: str | None = None, route: str = "", remote_addr: str = "") -> bool:
    """Record the first acknowledgement and stop the alerts; False if someone was first (caller commits).

    An officer acknowledges by SMS or voice; a console user has no Officer row and is named by `actor`.
    The write is access-logged ("write:ack", `route` or else `via`); a lost race writes nothing.
    """
    who = actor or (officer.name if officer is not None else "")
    if not who:
        raise ValueError("an acknowledgement needs an officer or an actor")
    transition = CASE_TRANSITIONS[CaseStatus.ACKNOWLEDGED]
    won = cast(CursorResult, session.execute(  # a DML statement's result is a CursorResult
        guarded_update(cast(Table, Case.__table__), transition, case.id, now)
        .values(acknowledged_by_id=officer.id if officer is not None else None, next_alert_at=None)
        .execution_options(synchronize_session=False)
    )).rowcount == 1
    if won:
        session.refresh(case)
        case_event(session, case, transition.event, event_detail("ack", who=who, via=via), actor=who)
        log_access(session, who, [case.id], route or via, "write:ack", remote_addr, at=now)
        log.info("case %s acknowledged by %s (%s)",
                 case.code, f"officer {officer.id}" if officer is not None else "console user", via)
    return won


def acknowledged_by_name(case: Case) -> str:
    """Who acknowledged the case: the officer, else the actor of its acknowledgement event (a console user)."""
    if case.acknowledged_by is not None:
        return case.acknowledged_by.name
    kind = CASE_TRANSITIONS[CaseStatus.ACKNOWLEDGED].event
    return next((e.actor for e in reversed(case.events) if e.kind == kind), "")


def acknowledge_by_sms(session: Session, officer: Officer, code: str | None, settings: DispatchSettings,
                       now: datetime) -> tuple[str, Case | None]:
    """`ACK <code>`, `收到 <code>`, or a bare ACK for the newest unacknowledged case alerted to this officer;
    returns the SMS answer and the case it told the officer about (None when it named none)."""
    lang = settings.ivr_language
    if code is None:
        case = session.scalar(
            select(Case).join(Message, Message.case_id == Case.id)
            .where(Message.to_phone == officer.phone, Case.status.in_(CASE_UNACKNOWLEDGED))
            .order_by(Case.created_at.desc(), Case.id.desc()).limit(1))
        if case is None:
            return render(lang, "case_ack_none"), None
    else:
        case = case_by_code(session, code)
        # Only officers the case was sent to (and supervisors) learn that it exists and who called.
        if case is None or (case.status not in CASE_UNACKNOWLEDGED and case.acknowledged_at is None) \
                or officer.id not in {o.id for o in alerted_officers(session, case)}:
            return render(lang, "case_ack_unknown", code=code), None
    if acknowledge(session, case, officer, "sms", now):
        return render(lang, "case_ack_ok", code=case.code, phone=national(case.caller) or mask(case.caller)), case
    return render(lang, "case_ack_already", code=case.code, name=acknowledged_by_name(case)), case


def overdue_alert_rounds(session: Session, now: datetime, cutoff: datetime, settings: DispatchSettings) -> Work:
    """Reconcile: the next round of every unacknowledged case whose round is due."""
    return [deferred.alert_round(case_id, done + 1, cast(datetime, at)) for case_id, done, at in session.execute(
        select(Case.id, Case.alert_round, Case.next_alert_at)
        .where(Case.status.in_(CASE_UNACKNOWLEDGED), Case.next_alert_at <= now))]
