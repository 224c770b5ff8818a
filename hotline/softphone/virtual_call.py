"""One phone call played the way Twilio plays it: post a webhook, walk the TwiML answer, wait where Twilio waits.

A call comes in to a line (`new_call`, then `start`) or is one the hotline placed and the callee picks up
(`outbound_call`, then `answer` with the TwiML it was placed with).

The call is a plain dict (JSON-safe, so it can be kept between browser requests) and a transport that
posts one signed webhook and returns the TwiML text. Flask-free: `flask simulate` posts over HTTP, the
console softphone in-process. What the caller hears and what happened comes back as a list of events.
"""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Callable

from hotline.softphone import twilio_wire as wire
from hotline.softphone.twiml_verbs import WAITING_VERBS, document, spoken, wait_of

Transport = Callable[[str, dict], str]  # (path with query, form params) -> TwiML text
MAX_REDIRECTS = 20          # a loop of Redirects must not hang the request
MAX_KEYS = 40               # keys one request may press
CONVERSATION_SECONDS = 45   # how long a softphone conversation with an officer "lasts"
RECORDING_SECONDS = 12      # the length of a softphone message


class WebhookFailed(RuntimeError):
    """The hotline answered a webhook with something other than 200 TwiML."""


class CallOver(RuntimeError):
    """The call has ended; nothing more can be done with it."""


def new_call(from_: str, to: str, account: str, line: str = "", api: str = wire.TWILIO_API) -> dict:
    """The state of a call to one of our numbers, not yet placed (`api`: where its recordings are kept)."""
    return {"sid": wire.new_sid("CA"), "from": from_, "to": to, "account": account, "line": line, "api": api,
            "status": "ringing", "started": time.time(), "sequence": 0, "doc": wire.VOICE_PATH,
            "wait": None, "rest": "", "direction": "inbound", "status_callback": wire.STATUS_PATH}


def outbound_call(from_: str, to: str, account: str, sid: str = "") -> dict:
    """The state of a call the hotline placed through the REST API (calls.create with inline TwiML), ringing.

    Such a call has no document URL and, as the hotline asks for none, no status callback.
    """
    state = new_call(from_, to, account)
    state.update(sid=sid or state["sid"], doc="/", direction="outbound-api", status_callback="")
    return state


class VirtualCall:
    """Plays Twilio for one call; each public method returns the events of what it did."""

    def __init__(self, state: dict, transport: Transport):
        self.state, self.post = state, transport
        self.events: list[dict] = []

    # --- what the caller does -------------------------------------------------------------------------

    def start(self) -> list[dict]:
        """Dial the line: the first webhook, then its TwiML walked until something waits."""
        self.events = []
        self._fetch(wire.VOICE_PATH)
        return self.events

    def answer(self, twiml: str) -> list[dict]:
        """Pick up an outbound call: Twilio plays the call's own TwiML, walked until something waits."""
        self.events = []
        if self.state["status"] != "ringing":
            raise CallOver("the call was answered already")
        self.state["status"] = "in-progress"
        self.events.append({"kind": "answered", "number": self.state["from"]})
        self._walk(list(ET.fromstring(twiml)), 0)
        return self.events

    def press(self, keys: str) -> list[dict]:
        """Press keys in turn; a Gather takes them, anything else ignores them as Twilio does."""
        self.events = []
        for key in keys[:MAX_KEYS]:
            wait = self._waiting()
            if wait["verb"] != "gather":
                self.events.append({"kind": "ignored_key", "digits": key})
                continue
            self.events.append({"kind": "key", "digits": key})
            if wait["finish_on_key"] and key in wait["finish_on_key"]:
                self._submit_gather()
                continue
            wait["digits"] += key
            if wait["num_digits"] and len(wait["digits"]) >= wait["num_digits"]:
                self._submit_gather()
        return self.events

    def silence(self) -> list[dict]:
        """Say nothing until the Gather or Record times out."""
        self.events = []
        wait = self._waiting()
        self.events.append({"kind": "silence"})
        if wait["verb"] == "gather" and (wait["digits"] or wait["on_empty"]):
            self._submit_gather()
        elif wait["verb"] in ("gather", "record"):
            self._continue_rest()  # Twilio falls through to the next verb
        return self.events

    def record(self, seconds: int = RECORDING_SECONDS) -> list[dict]:
        """Leave a message at a Record, ended with its finish key, as Twilio posts it."""
        self.events = []
        wait = self._waiting()
        if wait["verb"] != "record":
            raise CallOver("nothing is recording")
        sid = wire.new_sid("RE")
        url = wire.recordings_prefix(self.state.get("api", wire.TWILIO_API), self.state["account"]) + sid
        self.events.append({"kind": "recorded", "seconds": seconds})
        self._act(wait["action"], RecordingUrl=url, RecordingSid=sid, RecordingDuration=str(seconds),
                  Digits=(wait["finish_on_key"] or "hangup")[:1])
        return self.events

    def dial_outcome(self, outcome: str, index: int = 0) -> list[dict]:
        """How a ringing Dial ends: `answered` (by number `index`), `voicemail`, `no-answer` or `busy`."""
        self.events = []
        wait = self._waiting()
        if wait["verb"] != "dial":
            raise CallOver("nothing is ringing")
        numbers = wait["numbers"]
        number = numbers[min(max(index, 0), len(numbers) - 1)] if numbers else {"number": "", "url": ""}
        if outcome in ("no-answer", "busy"):
            self._dial_ended(outcome, wire.new_sid("CA"), 0)
        elif outcome == "voicemail":
            # A mailbox picks up the officer's phone and hears the screening; nobody presses 1.
            leg_sid = self._leg(number, digits="")
            self._dial_ended("completed", leg_sid, 20)
        elif outcome == "answered":
            leg = {}
            leg_sid = self._leg(number, digits="1", outcome=leg)
            if leg.get("bridged"):
                self.events.append({"kind": "connected", "number": number["number"]})
                self._dial_ended("completed", leg_sid, CONVERSATION_SECONDS)
        else:
            raise ValueError(f"unknown dial outcome {outcome!r}")
        return self.events

    def hangup(self) -> list[dict]:
        """The caller hangs up; a ringing Dial reports its end first, then the status callback."""
        self.events = []
        if self.state["status"] == "completed":
            return self.events
        wait = self.state["wait"] or {}
        self.events.append({"kind": "caller_hangup"})
        if wait.get("verb") == "dial" and wait.get("action"):
            self.state["status"] = "completed"
            self._post(wait["action"], DialCallStatus="canceled", DialCallSid=wire.new_sid("CA"),
                       DialCallDuration="0")  # the TwiML answer is ignored: nobody is on the line
        self._end()
        return self.events

    # --- Twilio's side ------------------------------------------------------------------------------

    def _waiting(self) -> dict:
        if self.state["status"] == "completed" or not self.state["wait"]:
            raise CallOver("the call has ended")
        return self.state["wait"]

    def _base(self, status: str | None = None) -> dict:
        s = self.state
        return wire.call_params(s["sid"], s["account"], s["from"], s["to"], status or s["status"],
                                direction=s.get("direction", "inbound"))

    def _post(self, url: str, **params: str) -> str:
        # TwiML names absolute URLs (PUBLIC_BASE_URL + path) or relative ones; Twilio requests either.
        return self.post(wire.path_of(url, self.state["doc"]), {**self._base(), **params})

    def _fetch(self, path: str, **params: str) -> None:
        """Request a document and walk it (the first webhook answers the call)."""
        text = self._post(path, **params)
        if self.state["status"] == "ringing":
            self.state["status"] = "in-progress"
        self.state["doc"] = path
        self._walk(list(ET.fromstring(text)), 0)

    def _act(self, url: str, **params: str) -> None:
        """Post a waiting verb's action (a missing action means the current document again)."""
        self.state["wait"], self.state["rest"] = None, ""
        self._fetch(wire.path_of(url or self.state["doc"], self.state["doc"]), **params)

    def _walk(self, verbs: list[ET.Element], redirects: int) -> None:
        """Run verbs until one waits for the caller, the document ends (hang up) or a Redirect fetches another."""
        for position, verb in enumerate(verbs):
            if verb.tag == "Say":
                self._say(verb)
            elif verb.tag in WAITING_VERBS:
                for say in verb.iter("Say"):
                    self._say(say)
                self.state["wait"] = wait_of(verb)
                self.state["rest"] = document(verbs[position + 1:])
                if verb.tag == "Dial":
                    ringing = [n["number"] for n in self.state["wait"]["numbers"]]
                    self.events.append({"kind": "ringing", "numbers": ringing})
                return
            elif verb.tag == "Redirect":
                if redirects >= MAX_REDIRECTS:
                    self.events.append({"kind": "note", "text": "too many redirects"})
                    break
                path = wire.path_of(verb.text or "", self.state["doc"])
                text = self._post(path)
                self.state["doc"] = path
                self._walk(list(ET.fromstring(text)), redirects + 1)
                return
            elif verb.tag in ("Hangup", "Reject"):
                break
            elif verb.tag != "Pause":
                self.events.append({"kind": "unsupported", "verb": verb.tag})
        self._end()

    def _say(self, say: ET.Element) -> None:
        self.events.append({"kind": "say", "text": "".join(say.itertext()).strip(),
                            "language": say.get("language", "")})

    def _submit_gather(self) -> None:
        wait = self.state["wait"]
        self._act(wait["action"], Digits=wait["digits"])

    def _continue_rest(self) -> None:
        rest = self.state["rest"]
        self.state["wait"], self.state["rest"] = None, ""
        self._walk(list(ET.fromstring(rest)) if rest else [], 0)

    def _dial_ended(self, dial_status: str, leg_sid: str, seconds: int) -> None:
        """Twilio requests the Dial's action when its call ends; without an action the document goes on."""
        wait = self.state["wait"]
        params = {"DialCallStatus": dial_status, "DialCallSid": leg_sid, "DialCallDuration": str(seconds)}
        if wait.get("action"):
            self._act(wait["action"], **params)
        else:
            self._continue_rest()

    def _leg(self, number: dict, digits: str, outcome: dict | None = None) -> str:
        """The officer's leg of a Dial: Twilio runs the Number's screening URL there before bridging."""
        sid = wire.new_sid("CA")
        if not number.get("url"):
            if outcome is not None:
                outcome["bridged"] = True
            return sid
        s = self.state
        # The officer's phone shows the Dial's callerId, else the caller's own number (Twilio's default).
        shown = (s["wait"] or {}).get("caller_id") or s["from"]
        base = wire.call_params(sid, s["account"], shown, number["number"], "in-progress",
                                direction="outbound-dial", ParentCallSid=s["sid"])
        path = wire.path_of(number["url"], s["doc"])
        root = ET.fromstring(self.post(path, base))
        for sentence in spoken(root):
            self.events.append({"kind": "officer_say", "text": sentence, "number": number["number"]})
        gather = root.find("Gather")
        if gather is not None and digits:
            self.events.append({"kind": "officer_key", "digits": digits, "number": number["number"]})
            action = wire.path_of(gather.get("action") or path, path)
            root = ET.fromstring(self.post(action, {**base, "Digits": digits}))
            for sentence in spoken(root):
                self.events.append({"kind": "officer_say", "text": sentence, "number": number["number"]})
        bridged = root.find("Hangup") is None and root.find("Gather") is None
        if outcome is not None:
            outcome["bridged"] = bridged
        if not bridged:
            self.events.append({"kind": "leg_hangup", "number": number["number"]})
        return sid

    def _end(self) -> None:
        """The call is over: its status callback (if it has one) says so, once."""
        if self.state.get("ended"):
            return
        self.state.update(status="completed", wait=None, rest="", ended=True)
        duration = max(1, round(time.time() - self.state["started"]))
        callback = self.state.get("status_callback", wire.STATUS_PATH)  # states saved before the key existed
        if callback:
            self.post(callback, wire.status_params(self._base("completed"), "completed",
                                                   self.state["sequence"], CallDuration=str(duration)))
            self.state["sequence"] += 1
        self.events.append({"kind": "ended", "seconds": duration})

