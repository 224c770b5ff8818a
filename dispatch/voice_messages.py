"""The scripts of outbound notification calls (landlines cannot read an SMS), as outbox bodies."""
from __future__ import annotations

from .providers import CallScript, KeyQuestion, Target

ACK_KEY = "1"
ACK_WAIT_SECONDS = 10


def spoken_notification(language: str, sentence: str) -> str:
    """A call that says `sentence` slowly twice, then hangs up."""
    return CallScript(language, (sentence,), repeat=2).to_body()


def acknowledgement_call(language: str, sentence: str, case_code: str, officer_id: int) -> str:
    """A call that reads `sentence` twice and takes one key: 1 acknowledges the case for this officer."""
    answer = Target("case-ack", {"case": case_code, "officer": officer_id})
    return CallScript(language, (sentence,), repeat=2,
                      question=KeyQuestion(ACK_KEY, ACK_WAIT_SECONDS, answer)).to_body()
