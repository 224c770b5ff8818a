"""Child-line cases from the first ring to an answer or a message: the transitions of the webhooks and of the replay.

The voice webhooks (hotline/webhooks/operator.py, hotline/webhooks/voice.py) call these for every call and they act
only on child-line calls; the worker's replay of webhooks spooled while the database was down (dispatch/spool.py)
opens its cases here too, so both write the same rows. Every function takes the session and leaves the commit to the
caller; none reads a request. Statuses, stamps and event kinds come from models.lifecycle.CASE_TRANSITIONS."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    CASE_MESSAGE_ALLOWED,
    CASE_TRANSITIONS,
    CallLog,
    Case,
    CaseStatus,
    Officer,
    case_by_call,
    case_event,
    new_case_code,
    set_case_status,
)
from models.lifecycle import NEW
from models.phone import mask

from .case_alerts import start_alerts
from .deferred import Work
from .event_details import detail as event_detail, parse
from .settings import DispatchSettings

log = logging.getLogger(__name__)
CODE_DRAWS = 5


def open_case(session: Session, row: CallLog) -> Case:
    """The call's case, opened `ringing` at its first webhook (caller commits); a retried or concurrent
    first webhook finds the same case."""
    return _open(session, row, CaseStatus.RINGING, event_detail("incoming"), row.started_at)[0]


def enter_child_line(session: Session, row: CallLog, now: datetime) -> Case:
    """A caller on the number both lines share pressed the child-line key (HOTLINE_CHILD_LINE_KEY): from now on the
    call is a child-line call, so its status callback, alerts and reports count it as one, and its case opens
    `ringing` at the key press, when the caller began to wait for a person (caller commits; a retry finds the case)."""
    row.line = "child"
    return _open(session, row, CaseStatus.RINGING, event_detail("incoming_key"), now)[0]


def _open(session: Session, row: CallLog, status: str, detail: str, at: datetime) -> tuple[Case, bool]:
    """The call's case and whether it was created just now, in `status` with its first event."""
    transition = CASE_TRANSITIONS[status]
    if not transition.allows(NEW):
        raise ValueError(f"a case cannot start {status}")
    case = case_by_call(session, row.call_sid)
    if case is not None:
        return case, False
    for _ in range(CODE_DRAWS):
        case = Case(code=new_case_code(session), call_sid=row.call_sid, caller=row.from_phone,
                    status=transition.to, created_at=at)
        try:
            # A savepoint, not a rollback of the caller's transaction: it may hold the webhook's receipt.
            with session.begin_nested():
                session.add(case)
                case_event(session, case, transition.event, detail)
                session.flush()
        except IntegrityError:  # the same first webhook twice at once, or a code clash: look again
            case = case_by_call(session, row.call_sid)
            if case is not None:
                return case, False
            continue
        log.info("case %s opened for a call from %s", case.code, mask(row.from_phone))
        return case, True
    raise RuntimeError("could not open a case")


def child_case(session: Session, row: CallLog) -> Case | None:
    """The case of a child-line call (None on the elderly line or before it has one)."""
    return case_by_call(session, row.call_sid) if row.line == "child" else None


def _tier_event_once(session: Session, case: Case, kind: str, tier: int, text: str) -> None:
    """The case's `kind` event for tier `tier`, unless it has one: a replayed webhook (a new idempotency
    token, or its receipt purged) repeats the same content, and must not repeat the timeline."""
    if not any(e.kind == kind and (parse(kind, e.detail) or ("", {}))[1].get("tier") == str(tier + 1)
               for e in case.events):
        case_event(session, case, kind, text)


def on_ring(session: Session, row: CallLog, tier: int, officers: list[Officer]) -> None:
    """A tier starts ringing, once per case and tier (caller commits)."""
    case = child_case(session, row)
    if case is not None:
        _tier_event_once(session, case, "ring", tier,
                         event_detail("ring", tier=tier + 1, names=", ".join(o.name for o in officers)))


def on_tier_unanswered(session: Session, row: CallLog, tier: int, dial_status: str) -> None:
    """Nobody in a tier pressed 1 (voicemail, silence, refusal, no answer); once per case and tier (caller commits)."""
    case = child_case(session, row)
    if case is not None:
        _tier_event_once(session, case, "no-answer", tier,
                         event_detail("no_answer", tier=tier + 1, dial=dial_status or "-"))


def on_answered(session: Session, row: CallLog, officer: Officer, now: datetime) -> None:
    """An officer pressed 1 on the screening prompt (caller commits)."""
    case = child_case(session, row)
    if case is not None and CASE_TRANSITIONS[CaseStatus.ANSWERED].allows(case.status):
        case.answered_by_id = officer.id
        set_case_status(session, case, CaseStatus.ANSWERED, officer.name, now=now)


def on_message(session: Session, row: CallLog, recording_url: str, settings: DispatchSettings, now: datetime) -> Work:
    """The caller left a message: the case waits for acknowledgement and the alerts start (caller commits)."""
    case = child_case(session, row)
    if case is None or case.status not in CASE_MESSAGE_ALLOWED:
        return []
    if recording_url and not case.recording_url:  # the first one is kept: a replay cannot replace it
        case.recording_url = recording_url
    if case.status != CaseStatus.VOICEMAIL:
        set_case_status(session, case, CaseStatus.VOICEMAIL, event_detail("message"), now=now)
    return start_alerts(session, case, settings, now)


def on_missed(session: Session, row: CallLog, settings: DispatchSettings, now: datetime) -> Work:
    """The caller hung up before anyone answered (status callback or Dial action) (caller commits).

    A status callback can be the first we hear of a call (its voice webhook failed): every call leaves a case.
    """
    case = child_case(session, row)
    if case is None and row.line == "child":
        case = open_case(session, row)
    if case is None or not CASE_TRANSITIONS[CaseStatus.MISSED].allows(case.status):
        return []
    set_case_status(session, case, CaseStatus.MISSED, event_detail("hung_up"), now=now)
    return start_alerts(session, case, settings, now)


def missed_during_outage(session: Session, row: CallLog, settings: DispatchSettings, at: datetime,
                         now: datetime) -> Work:
    """A child-line call the fallback answered while the database was down: a missed case, officers alerted
    (caller commits); nothing when the call has a case already (its own webhooks got through)."""
    case, created = _open(session, row, CaseStatus.MISSED,
                          event_detail("outage"), at)
    return start_alerts(session, case, settings, now) if created else []
