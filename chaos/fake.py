"""The project's FakeTwilio, with a clock: when each REST request came and went, and an optional slow-down.

The slow-down makes a worker kill land while a send is in flight: the fake (like Twilio) still accepts the
message after the client has gone, which is the one documented window for a duplicate.
"""
from __future__ import annotations

import json
import threading
import time

from tests.twilio_fake import FakeTwilio, _Failure


class TimedFakeTwilio(FakeTwilio):
    """FakeTwilio that logs (start, end, kind, To, Body, HTTP status, SID) of every POST it answers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timeline: list[dict] = []
        self._timeline_lock = threading.Lock()
        self.slow_until = 0.0
        self.slow_seconds = 0.0
        self.in_flight: dict[int, float] = {}  # client port -> when its request came in

    def slow_down(self, seconds: float, for_seconds: float) -> None:
        """Every create request waits `seconds` before being handled, for the next `for_seconds`."""
        self.slow_seconds, self.slow_until = seconds, time.time() + for_seconds

    def _dispatch(self, request, auth_ok):
        start = time.time()
        port = int(request.environ.get("REMOTE_PORT") or 0)
        with self._timeline_lock:
            self.in_flight[port] = start
        if request.method == "POST" and start < self.slow_until:
            time.sleep(self.slow_seconds)
        status, sid = 0, None
        try:
            response = super()._dispatch(request, auth_ok)
            status = response.status_code
            if status == 201:
                sid = json.loads(response.get_data())["sid"]
            return response
        except _Failure as failure:
            status = failure.response.status_code
            raise
        finally:
            with self._timeline_lock:
                self.in_flight.pop(port, None)
            if request.method == "POST":
                kind = "call" if request.path.endswith("/Calls.json") else "sms"
                body = request.form.get("Body") if kind == "sms" else request.form.get("Twiml")
                with self._timeline_lock:
                    self.timeline.append({"start": start, "end": time.time(), "kind": kind,
                                          "to": request.form.get("To", ""), "body": body or "",
                                          "status": status, "sid": sid})

    def client_ports(self) -> list[int]:
        """Local ports of the clients whose request is being handled right now."""
        with self._timeline_lock:
            return list(self.in_flight)

    def sent_at(self) -> dict[str, float]:
        """SID -> when the fake accepted it."""
        with self._timeline_lock:
            return {t["sid"]: t["end"] for t in self.timeline if t["sid"]}

    def timeline_copy(self) -> list[dict]:
        with self._timeline_lock:
            return list(self.timeline)
