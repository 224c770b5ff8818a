"""A fake of Twilio's 2010-04-01 REST API (Messages and Calls), served over real HTTP for tests."""
from __future__ import annotations

import json
import math
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "a" * 32
E164_RE = re.compile(r"^\+[1-9]\d{1,14}$")
# Messages may also come from a short code or an alphanumeric sender ID.
SHORT_CODE_RE = re.compile(r"^\d{3,8}$")
ALPHA_SENDER_RE = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
ROUTE_RE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/(?P<kind>Messages|Calls)"
                      r"(?:/(?P<sid>[^/]+))?\.json$")
# Media of a recording; with "Enforce HTTP Auth on Media URLs" it needs the account's credentials.
RECORDING_RE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Recordings/(?P<sid>RE[0-9a-f]{32})\.mp3$")
GSM7_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
              "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
# Extension-table characters cost two septets (escape + char).
GSM7_EXTENDED = "^{}\\[~]|€\f"
BEHAVIOURS = ("unsubscribed", "invalid", "landline")
# What a held (delayed) request does once its delay is over: "accept" handles it as usual (the client may
# have timed out or died meanwhile: Twilio sent it anyway); "drop" answers 503 and creates nothing.
DELAY_OUTCOMES = ("accept", "drop")
DEFAULT_MESSAGES = {20429: "Too Many Requests", 20500: "Internal Server Error",
                    20503: "Service Unavailable"}


def count_segments(body: str) -> int:
    """Return how many SMS segments Twilio bills for body (GSM-7 160/153, else UCS-2 70/67)."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in body):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in body)
        single, multi = 160, 153
    else:
        # UCS-2 counts UTF-16 code units, so astral chars (emoji) cost two.
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if units <= single else math.ceil(units / multi)


def twilio_error(status: int, code: int, message: str, headers: dict | None = None) -> Response:
    """Build an error response in Twilio's exact legacy JSON error format."""
    payload = {"code": code, "message": message,
               "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    return _json_response(payload, status, headers)


def _json_response(payload: dict, status: int, headers: dict | None = None) -> Response:
    resp = Response(json.dumps(payload), status=status, headers=headers or {},
                    content_type="application/json; charset=utf-8")
    resp.headers["Twilio-Request-Id"] = "RQ" + secrets.token_hex(16)
    return resp


def _now_rfc2822() -> str:
    return format_datetime(datetime.now(timezone.utc))


class _QuietHandler(WSGIRequestHandler):
    """Request handler that keeps werkzeug's per-request access log out of test output."""

    def log_request(self, code="-", size="-"):
        """Skip access logging."""


class _Failure(Exception):
    """Internal short-circuit carrying a Twilio error response."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


class FakeTwilio:
    """In-process HTTP fake of Twilio's Messages and Calls REST resources."""

    def __init__(self, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = "secret",
                 api_keys: dict[str, str] | None = None, host: str = "127.0.0.1"):
        """Configure credentials; api_keys maps API key SIDs ("SK...") to their secrets."""
        self.account_sid, self.auth_token, self.host = account_sid, auth_token, host
        self.api_keys = dict(api_keys or {})
        self._lock = threading.Lock()
        self._server = None
        self._thread: threading.Thread | None = None
        self.reset()

    def start(self) -> "FakeTwilio":
        """Start serving on a random free port in a background thread; returns self."""
        if self._server is None:
            self._server = make_server(self.host, 0, self.wsgi_app, threaded=True,
                                       request_handler=_QuietHandler)
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            name="fake-twilio", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Root URL to assign to twilio Client.api.base_url, e.g. "http://127.0.0.1:43211"."""
        if self._server is None:
            raise RuntimeError("FakeTwilio is not started")
        return f"http://{self.host}:{self._server.server_port}"

    @property
    def messages(self) -> list[dict]:
        """Snapshot of accepted messages (sid, to, from_, body, status, num_segments, ...)."""
        with self._lock:
            return list(self._messages)

    @property
    def calls(self) -> list[dict]:
        """Snapshot of accepted calls (sid, to, from_, url, twiml, status_callback, ...)."""
        with self._lock:
            return list(self._calls)

    @property
    def requests(self) -> list[dict]:
        """Snapshot of every request received (method, path, form, auth_ok, username, status)."""
        with self._lock:
            return list(self._requests)

    def add_recording(self, audio: bytes) -> str:
        """Store a call recording as Twilio would; returns its RecordingUrl (no extension, as webhooks send it)."""
        sid = "RE" + secrets.token_hex(16)
        with self._lock:
            self._recordings[sid] = audio
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"

    def reset(self) -> None:
        """Forget all messages, calls, requests, scripted failures and number behaviours."""
        with self._lock:
            self._messages: list[dict] = []
            self._calls: list[dict] = []
            self._requests: list[dict] = []
            self._resources: dict[str, dict] = {}
            self._recordings: dict[str, bytes] = {}
            self._failures: list[tuple[int, int, str]] = []
            self._behaviours: dict[str, str] = {}
            self._delays: list[tuple[float, str]] = []
            self._held: list[dict] = []
            # Held requests of an earlier test wake up now and leave no trace in this one.
            self._generation = getattr(self, "_generation", 0) + 1
            old_wake = getattr(self, "_wake", None)
            self._wake = threading.Event()
        if old_wake is not None:
            old_wake.set()

    def delay_next(self, n: int = 1, seconds: float = 1.0, outcome: str = "accept") -> None:
        """Hold the next n requests for `seconds` before answering, as a slow or hung Twilio would.

        After the delay a held request is handled as usual ("accept") or answered 503 without creating
        anything ("drop"). `held` lists the requests being or having been held; `release()` ends every
        delay at once.
        """
        if outcome not in DELAY_OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; expected one of {DELAY_OUTCOMES}")
        with self._lock:
            self._delays.extend([(seconds, outcome)] * n)

    @property
    def held(self) -> list[dict]:
        """Requests that were held by `delay_next` (method, path, form, outcome), in arrival order."""
        with self._lock:
            return list(self._held)

    def wait_held(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait until `count` requests are being (or have been) held; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.held) >= count:
                return True
            time.sleep(0.02)
        return len(self.held) >= count

    def release(self) -> None:
        """End the delay of every request held right now (they take their outcome at once)."""
        with self._lock:
            wake, self._wake = self._wake, threading.Event()
        wake.set()

    def fail_next(self, n: int = 1, status: int = 429, code: int = 20429,
                  message: str | None = None) -> None:
        """Make the next n requests fail with the given HTTP status and Twilio error code."""
        message = message or DEFAULT_MESSAGES.get(code, "Error")
        with self._lock:
            self._failures.extend([(status, code, message)] * n)

    def set_number_behaviour(self, number: str, behaviour: str | None) -> None:
        """Script how Twilio treats a 'To' number: unsubscribed, invalid, landline, or None."""
        if behaviour is not None and behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {BEHAVIOURS}")
        with self._lock:
            if behaviour is None:
                self._behaviours.pop(number, None)
            else:
                self._behaviours[number] = behaviour

    def set_status(self, sid: str, status: str) -> None:
        """Change a message's or call's status, as later fetches would report it."""
        with self._lock:
            self._resources[sid]["status"] = status
            self._resources[sid]["date_updated"] = _now_rfc2822()
            for record in self._messages + self._calls:
                if record["sid"] == sid:
                    record["status"] = status

    def wsgi_app(self, environ, start_response):
        """WSGI entry point: authenticate, route and record every request."""
        request = Request(environ)
        auth = request.authorization
        username = auth.username if auth and auth.type == "basic" else None
        password = auth.password if username else None
        auth_ok = username is not None and (
            (username == self.account_sid and password == self.auth_token)
            or (username in self.api_keys and self.api_keys[username] == password))
        record = {"method": request.method, "path": request.path, "query": request.args.to_dict(),
                  "form": request.form.to_dict(), "auth_ok": auth_ok, "username": username}
        with self._lock:
            generation = self._generation
            delay = self._delays.pop(0) if self._delays else None
        if delay is not None:
            response = self._hold(record, *delay, generation=generation)
            if response is not None:
                return response(environ, start_response)
        try:
            response = self._dispatch(request, auth_ok)
        except _Failure as failure:
            response = failure.response
        record["status"] = response.status_code
        with self._lock:
            self._requests.append(record)
        return response(environ, start_response)

    def _hold(self, record: dict, seconds: float, outcome: str, generation: int) -> Response | None:
        """Wait out a scripted delay; a response ends the request there, None lets it be handled."""
        with self._lock:
            self._held.append({**record, "outcome": outcome})
            wake = self._wake
        wake.wait(seconds)
        with self._lock:
            stale = generation != self._generation
        if stale or outcome == "drop":
            response = twilio_error(503, 20503, DEFAULT_MESSAGES[20503])
            if not stale:
                with self._lock:
                    self._requests.append({**record, "status": 503})
            return response
        return None

    def _dispatch(self, request: Request, auth_ok: bool) -> Response:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure:
            return twilio_error(*failure)
        if not auth_ok:
            return twilio_error(401, 20003, "Authenticate",
                                {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        recording = RECORDING_RE.match(request.path)
        if recording and recording["account"] == self.account_sid and request.method == "GET":
            with self._lock:
                audio = self._recordings.get(recording["sid"])
            if audio is None:
                return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
            return Response(audio, 200, mimetype="audio/mpeg")
        match = ROUTE_RE.match(request.path)
        if not match or match["account"] != self.account_sid:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        if match["sid"]:
            if request.method != "GET":
                return twilio_error(405, 20004, "Method not allowed")
            with self._lock:
                resource = dict(self._resources.get(match["sid"]) or {"uri": None})
            if resource["uri"] != request.path:
                return twilio_error(404, 20404,
                                    f"The requested resource {request.path} was not found")
            return _json_response(resource, 200)
        if request.method != "POST":
            return twilio_error(405, 20004, "Method not allowed")
        if match["kind"] == "Messages":
            return self._create_message(request.form)
        return self._create_call(request.form)

    def _store(self, kind: str, resource: dict, record: dict) -> Response:
        # Look the list up under the lock so a concurrent reset() cannot orphan the record.
        with self._lock:
            self._resources[resource["sid"]] = resource
            getattr(self, kind).append(record)
        return _json_response(resource, 201)

    def _check_to(self, to: str, allow_endpoints: bool = False) -> str | None:
        if allow_endpoints and to.startswith(("client:", "sip:")):
            return None
        with self._lock:
            behaviour = self._behaviours.get(to)
        if not E164_RE.match(to) or behaviour == "invalid":
            raise _Failure(twilio_error(400, 21211,
                                        f"The 'To' number {to} is not a valid phone number."))
        return behaviour

    def _create_message(self, form) -> Response:
        to, from_ = form.get("To", ""), form.get("From", "")
        service_sid, body = form.get("MessagingServiceSid", ""), form.get("Body", "")
        media = form.getlist("MediaUrl")
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not from_ and not service_sid:
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if not body and not media and not form.get("ContentSid"):
            return twilio_error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return twilio_error(400, 21617, "The concatenated message body exceeds the "
                                            "1600 character limit.")
        behaviour = self._check_to(to)
        if from_ and not (E164_RE.match(from_) or SHORT_CODE_RE.match(from_)
                          or ALPHA_SENDER_RE.match(from_)):
            return twilio_error(400, 21212, f"The 'From' number {from_} is not a valid phone "
                                            "number, shortcode, or alphanumeric sender ID.")
        if behaviour == "unsubscribed":
            return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        if behaviour == "landline":
            return twilio_error(400, 21614, "'To' number is not a valid mobile number")
        sid, now = "SM" + secrets.token_hex(16), _now_rfc2822()
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        segments = count_segments(body)
        # Twilio reports "accepted" while a Messaging Service still has to pick a sender.
        status = "queued" if from_ else "accepted"
        resource = {
            "account_sid": self.account_sid, "api_version": API_VERSION, "body": body,
            "date_created": now, "date_sent": None, "date_updated": now,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": from_ or None, "messaging_service_sid": service_sid or None,
            "num_media": str(len(media)), "num_segments": str(segments), "price": None,
            "price_unit": "USD", "sid": sid, "status": status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json"),
                                 "feedback": uri.replace(".json", "/Feedback.json")},
            "to": to, "uri": uri,
        }
        record = {"sid": sid, "account_sid": self.account_sid, "to": to, "from_": from_ or None,
                  "messaging_service_sid": service_sid or None, "body": body,
                  "media_urls": media, "status": status, "num_segments": segments,
                  "status_callback": form.get("StatusCallback"), "params": form.to_dict()}
        return self._store("_messages", resource, record)

    def _create_call(self, form) -> Response:
        to, from_ = form.get("To", ""), form.get("From", "")
        url, twiml, app_sid = form.get("Url"), form.get("Twiml"), form.get("ApplicationSid")
        if not to:
            return twilio_error(400, 21201, "No 'To' number is specified")
        if not from_:
            return twilio_error(400, 21213, "No 'From' number is specified")
        if not (url or twiml or app_sid):
            return twilio_error(400, 21205, "Url parameter is required.")
        self._check_to(to, allow_endpoints=True)
        if not (E164_RE.match(from_) or from_.startswith("client:")):
            return twilio_error(400, 21212, f"The 'From' number {from_} is not a valid "
                                            "phone number.")
        sid, now = "CA" + secrets.token_hex(16), _now_rfc2822()
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}.json"
        subs = ("Notifications", "Recordings", "Payments", "Events", "Siprec", "Streams",
                "UserDefinedMessageSubscriptions", "UserDefinedMessages")
        resource = {
            "account_sid": self.account_sid, "annotation": None, "answered_by": None,
            "api_version": API_VERSION, "caller_name": None, "date_created": now,
            "date_updated": now, "direction": "outbound-api", "duration": None,
            "end_time": None, "forwarded_from": None, "from": from_, "from_formatted": from_,
            "group_sid": None, "parent_call_sid": None, "phone_number_sid": None,
            "price": None, "price_unit": "USD", "queue_time": "0", "sid": sid,
            "start_time": None, "status": "queued",
            "subresource_uris": {re.sub(r"(?<!^)(?=[A-Z])", "_", s).lower():
                                 uri.replace(".json", f"/{s}.json") for s in subs},
            "to": to, "to_formatted": to, "trunk_sid": None, "uri": uri,
        }
        record = {"sid": sid, "account_sid": self.account_sid, "to": to, "from_": from_,
                  "url": url, "twiml": twiml, "application_sid": app_sid,
                  "method": form.get("Method", "POST"), "status": "queued",
                  "status_callback": form.get("StatusCallback"),
                  "status_callback_event": form.getlist("StatusCallbackEvent"),
                  "params": form.to_dict()}
        return self._store("_calls", resource, record)
