"""A hand-built month and a half of orders and child-line cases for the report tests (times in Asia/Shanghai).

Orders (minutes after creation; "cb" = satisfaction callback placed):
  O0  daily_care     2026-02-28 23:50  completed +30                      (outside March-April)
  O1  daily_care     2026-03-05 10:00  accept +2  arrive +10  complete +40   rating 1
  O2  housekeeping   2026-03-10 09:00  accept +4  arrive +15  complete +60   rating 2
  O3  housekeeping   2026-03-31 23:30  accept +6  arrive +20  complete +90   rating 3
  O4  emergency      2026-04-01 00:30  accept +1  arrive +8   complete +30   cb, no rating  (UTC: 03-31 16:30)
  O5  companionship  2026-04-03 14:00  accept +10 arrive +25  complete +120
  O6  daily_care     2026-04-07 08:00  escalated +6, accept +12, arrive +30 (still open)
  O7  legal_aid      2026-04-09 11:00  escalated +6, cancelled +20 (nobody came)
  O8  daily_care     2026-04-15 16:00  accept +3  arrive +12, cancelled +50 (after arrival)
  O9  housekeeping   2026-04-20 10:00  pending (nobody yet)
  O10 daily_care     2026-05-02 09:00  accept +5 arrive +9 complete +20      (outside March-April)

Child-line cases:
  C1 2026-03-02 10:00  answered +1, later closed
  C2 2026-03-15 20:00  voicemail (recording), acknowledged +12
  C3 2026-04-01 00:20  missed, acknowledged +4, later closed            (UTC: 03-31 16:20)
  C4 2026-04-10 09:00  missed, not acknowledged
  C5 2026-04-12 21:00  missed, then a message (voicemail event, no URL), acknowledged +30, later closed
  C6 2026-04-20 08:00  still ringing
  C7 2026-05-01 10:00  answered +2                                        (outside March-April)
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from models import Case, CaseEvent, Order

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """An aware instant from "YYYY-MM-DD HH:MM" Shanghai time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def _after(start: datetime, minutes: float | None) -> datetime | None:
    return None if minutes is None else start + timedelta(minutes=minutes)


ORDERS = [
    # code, category, created, status, accept, arrive, complete, escalate, cancel, rating, callback
    ("000000", "daily_care", "2026-02-28 23:50", "completed", 2, 10, 30, None, None, None, False),
    ("000001", "daily_care", "2026-03-05 10:00", "completed", 2, 10, 40, None, None, 1, True),
    ("000002", "housekeeping", "2026-03-10 09:00", "completed", 4, 15, 60, None, None, 2, True),
    ("000003", "housekeeping", "2026-03-31 23:30", "completed", 6, 20, 90, None, None, 3, True),
    ("000004", "emergency", "2026-04-01 00:30", "completed", 1, 8, 30, None, None, None, True),
    ("000005", "companionship", "2026-04-03 14:00", "completed", 10, 25, 120, None, None, None, False),
    ("000006", "daily_care", "2026-04-07 08:00", "arrived", 12, 30, None, 6, None, None, False),
    ("000007", "legal_aid", "2026-04-09 11:00", "cancelled", None, None, None, 6, 20, None, False),
    ("000008", "daily_care", "2026-04-15 16:00", "cancelled", 3, 12, None, None, 50, None, False),
    ("000009", "housekeeping", "2026-04-20 10:00", "pending", None, None, None, None, None, None, False),
    ("000010", "daily_care", "2026-05-02 09:00", "completed", 5, 9, 20, None, None, None, False),
]

CASES = [
    # code, created, status, answered after, recording, acknowledged after, outcome events
    ("C1", "2026-03-02 10:00", "closed", 1, None, None, ("answered",)),
    ("C2", "2026-03-15 20:00", "acknowledged", None, "https://api.twilio.com/rec/RE2", 12, ("voicemail",)),
    ("C3", "2026-04-01 00:20", "closed", None, None, 4, ("missed",)),
    ("C4", "2026-04-10 09:00", "missed", None, None, None, ("missed",)),
    ("C5", "2026-04-12 21:00", "closed", None, None, 30, ("missed", "voicemail")),
    ("C6", "2026-04-20 08:00", "ringing", None, None, None, ()),
    ("C7", "2026-05-01 10:00", "answered", 2, None, None, ("answered",)),
]


def add_orders(db) -> None:
    """Commit the orders O0-O10 above."""
    for code, category, created, status, accept, arrive, complete, escalate, cancel, rating, callback in ORDERS:
        at = local(created)
        db.add(Order(code=code, category=category, status=status, created_at=at,
                     accepted_at=_after(at, accept), arrived_at=_after(at, arrive),
                     completed_at=_after(at, complete), escalated_at=_after(at, escalate),
                     cancelled_at=_after(at, cancel), rating=rating, rated_at=_after(at, 200) if rating else None,
                     satisfaction_call_at=_after(at, 190) if callback else None))
    db.commit()


def add_cases(db) -> None:
    """Commit the cases C1-C7 above, with the events the webhooks would have written."""
    for code, created, status, answered, recording, acknowledged, kinds in CASES:
        at = local(created)
        case = Case(code=code, status=status, caller="+8613904761234", call_sid=f"CA{code}", created_at=at,
                    answered_at=_after(at, answered), recording_url=recording,
                    acknowledged_at=_after(at, acknowledged))
        case.events = [CaseEvent(kind="call", at=at)] + [CaseEvent(kind=k, at=at) for k in kinds]
        if acknowledged is not None:
            case.events.append(CaseEvent(kind="acknowledged", at=_after(at, acknowledged)))
        db.add(case)
    db.commit()
