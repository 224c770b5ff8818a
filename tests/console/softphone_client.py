"""Drives the console softphone's JSON endpoints as the page's script does."""
from __future__ import annotations

from hotline.registry.demo import DEMO_RESIDENT_PHONE

PAGE = "/console/softphone/"


class Softphone:
    """Posts to the softphone's endpoints as the page's script does (CSRF header, form fields)."""

    def __init__(self, client):
        self.client = client
        self.call = None

    def post(self, path: str, **fields):
        """POST one action; returns the response."""
        return self.client.post(PAGE + path, data=fields, headers={"X-CSRF-Token": self.client.csrf})

    def ok(self, path: str, **fields) -> dict:
        """POST one action that must succeed; remembers the call; returns the JSON answer."""
        resp = self.post(path, **fields)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        data = resp.get_json()
        self.call = data.get("call", self.call)
        return data

    def dial(self, caller: str = DEMO_RESIDENT_PHONE, line: str = "elderly") -> dict:
        """Place a call."""
        return self.ok("call", line=line, caller=caller)

    def keys(self, keys: str) -> dict:
        """Press keys on the current call."""
        return self.ok(f"call/{self.call['sid']}/keys", keys=keys)

    def act(self, action: str, **fields) -> dict:
        """Another action on the current call (silence, dial, record, hangup)."""
        return self.ok(f"call/{self.call['sid']}/{action}", **fields)

    def inbox(self, number: str) -> list[dict]:
        """What the hotline sent to `number`, newest first, as the page lists it."""
        resp = self.client.get(PAGE + "inbox", query_string={"number": number})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["messages"]

    def answer(self, message_id: int) -> dict:
        """Pick up a call from the inbox; it becomes the current call."""
        return self.ok("call/answer", message_id=str(message_id))


def said(data: dict) -> list[str]:
    """The sentences the caller heard in one answer."""
    return [e["text"] for e in data["events"] if e["kind"] == "say"]


def kinds(data: dict) -> list[str]:
    """The kinds of the events in one answer, in order."""
    return [e["kind"] for e in data["events"]]
