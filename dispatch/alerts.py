"""One-off alerts to officers when an elderly-line caller could not reach a person (child-line cases repeat theirs)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import escalation_chain
from models.phone import national

from . import deferred
from .deferred import Work
from .outbox import queue_message
from .texts import CATALOGUES, ZH, render


def callback_alert(session: Session, line: str, call_sid: str, caller: str, at: datetime, language: str,
                   kind: str = "voicemail") -> Work:
    """Queue one SMS per officer of the line's chain naming the number to call back; once per call (caller commits).

    `kind` is "voicemail" (a message was left) or "missed" (the caller hung up while officers were rung).
    """
    catalogue = CATALOGUES.get(language, ZH)
    body = render(language, f"{kind}_alert", line=catalogue["line"][line], phone=national(caller) or caller)
    follow: Work = []
    officers = {o.id: o for tier in escalation_chain(session, line, at) for o in tier}
    for officer in officers.values():
        # One key per call, whichever came first: a message after a "missed" does not alert twice.
        message = queue_message(session, f"callback:{call_sid}:{officer.id}", officer.phone, body)
        follow.append(deferred.send(message.id))
    return follow
