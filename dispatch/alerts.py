"""Alerts to officers when a caller could not reach a person."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import escalation_chain
from models.phone import national

from .offers import FollowUp
from .outbox import queue_message
from .texts import CATALOGUES, ZH


def voicemail_alert(session: Session, line: str, call_sid: str, caller: str, at: datetime, language: str) -> FollowUp:
    """Queue an SMS to every officer in the line's chain naming the number to call back (caller commits)."""
    catalogue = CATALOGUES.get(language, ZH)
    body = catalogue["voicemail_alert"].format(line=catalogue["line"][line], phone=national(caller) or caller)
    follow = FollowUp()
    officers = {o.id: o for tier in escalation_chain(session, line, at) for o in tier}
    for officer in officers.values():
        follow.messages.append(queue_message(session, f"voicemail:{call_sid}:{officer.id}", officer.phone, body).id)
    return follow
