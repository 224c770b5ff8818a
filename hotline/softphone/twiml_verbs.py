"""What a TwiML document means to the phone: the sentences it says and what a waiting verb waits for.

Twilio's defaults stand in for missing attributes. Flask-free; used by the virtual call (virtual_call.py).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

WAITING_VERBS = ("Gather", "Record", "Dial")


def spoken(root: ET.Element) -> list[str]:
    """Every sentence a TwiML document says, in order."""
    return ["".join(say.itertext()).strip() for say in root.iter("Say")]


def wait_of(verb: ET.Element) -> dict:
    """What a waiting verb (Gather, Record, Dial) waits for, from its attributes."""
    action = verb.get("action") or ""
    if verb.tag == "Gather":
        return {"verb": "gather", "action": action, "num_digits": _int(verb.get("numDigits"), 0),
                "finish_on_key": verb.get("finishOnKey", "#"), "timeout": _int(verb.get("timeout"), 5),
                "on_empty": verb.get("actionOnEmptyResult", "false") == "true", "digits": ""}
    if verb.tag == "Record":
        return {"verb": "record", "action": action, "max_length": _int(verb.get("maxLength"), 3600),
                "finish_on_key": verb.get("finishOnKey", "1234567890*#"), "timeout": _int(verb.get("timeout"), 5)}
    numbers = [{"number": (n.text or "").strip(), "url": n.get("url", "")} for n in verb.findall("Number")]
    if not numbers and (verb.text or "").strip():
        numbers = [{"number": verb.text.strip(), "url": ""}]
    return {"verb": "dial", "action": action, "numbers": numbers, "timeout": _int(verb.get("timeout"), 30),
            "caller_id": verb.get("callerId", "")}


def document(verbs: list[ET.Element]) -> str:
    """The verbs left after a waiting one, as a TwiML document (Twilio goes on with them on a fall-through)."""
    if not verbs:
        return ""
    root = ET.Element("Response")
    root.extend(verbs)
    return ET.tostring(root, encoding="unicode")


def _int(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() else default
