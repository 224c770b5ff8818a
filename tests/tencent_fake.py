"""A fake of Tencent Cloud's SMS API (2021-01-11: SendSms, PullSmsSendStatusByPhoneNumber) over real HTTP, which
checks every request's TC3-HMAC-SHA256 signature as Tencent publishes it and answers in Tencent's shapes
({"Response": {...}} or {"Response": {"Error": {Code, Message}}}), and calls our callbacks as Tencent does: a reply
as one JSON object, status reports as a JSON array; a call not answered {"result": 0} stays and is made again.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from werkzeug.wrappers import Request, Response

from tests.loopback_server import LoopbackServer

ALGORITHM = "TC3-HMAC-SHA256"
VERSION = "2021-01-11"
SERVICE = "sms"
MAINLAND_MOBILE = re.compile(r"^\+861[3-9]\d{9}$")
BEIJING = timezone(timedelta(hours=8))
# A poster: (url, JSON body) -> (HTTP status, answer body). Tests pass one on the Flask test client.
Poster = Callable[[str, bytes], tuple[int, bytes]]


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature_of(secret_key: str, timestamp: int, method: str, path: str, query: str, headers: dict[str, str],
                 signed: list[str], body: bytes) -> str:
    """The TC3-HMAC-SHA256 signature of a request, recomputed from Tencent's published algorithm (API 3.0 签名 v3)."""
    date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed)
    canonical = "\n".join([method, path or "/", query, canonical_headers, ";".join(signed),
                           hashlib.sha256(body).hexdigest()])
    scope = f"{date}/{SERVICE}/tc3_request"
    to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), SERVICE), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class FakeTencentSms(LoopbackServer):
    """In-process HTTP fake of Tencent Cloud SMS; `templates` maps TemplateId -> (parameter names, text with {n})."""

    thread_name = "fake-tencent"

    def __init__(self, secret_id: str, secret_key: str, app_id: str, sign_name: str,
                 templates: dict[str, tuple[tuple[str, ...], str]]):
        self.secret_id, self.secret_key, self.app_id, self.sign_name = secret_id, secret_key, app_id, sign_name
        self.templates = templates
        self._lock = threading.Lock()
        self._server = None
        self.reset()

    def reset(self) -> None:
        """Forget messages, scripted answers and pending callbacks; the SMS package is unlimited."""
        with self._lock:
            self.messages: list[dict] = []
            self.requests: list[dict] = []
            self.refused: list[str] = []
            self._codes: list[str] = []
            self._errors: list[str] = []
            self._hangs: list[float] = []
            self.balance: int | None = None
            self.max_param_length = 0  # 0: no limit (Tencent's default for new accounts is 6 characters)
            self.session_context_enabled = True  # Tencent returns SessionContext in pulls only once enabled
            self._replies: list[dict] = []
            self._reports: list[dict] = []

    def answer_next(self, *codes: str) -> None:
        """The next SendSms requests (one per code) get this code in their SendStatus, nothing sent."""
        self._codes.extend(codes)

    def fail_next(self, *codes: str) -> None:
        """The next SendSms requests (one per code) are answered with this Error, nothing sent."""
        self._errors.extend(codes)

    def hang_next(self, seconds: float) -> None:
        """The next SendSms is accepted (the message goes out) but answered only after `seconds`."""
        self._hangs.append(seconds)

    # --- the API ---

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        problem = self._check_signature(request, body)
        if problem is not None:
            with self._lock:
                self.refused.append(problem)
            return _error(problem, "The provided credentials could not be validated.")(environ, start_response)
        action = request.headers.get("X-TC-Action", "")
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return _error("InvalidParameter", "body is not JSON")(environ, start_response)
        with self._lock:
            self.requests.append({"action": action, **params})
        if request.headers.get("X-TC-Version") != VERSION:
            return _error("NoSuchVersion", "version")(environ, start_response)
        if not request.headers.get("X-TC-Region"):
            return _error("MissingParameter", "Region")(environ, start_response)
        if action == "SendSms":
            return self._send(params)(environ, start_response)
        if action == "PullSmsSendStatusByPhoneNumber":
            return self._pull(params)(environ, start_response)
        return _error("InvalidAction", action)(environ, start_response)

    def _check_signature(self, request: Request, body: bytes) -> str | None:
        auth = request.headers.get("Authorization", "")
        match = re.fullmatch(rf"{ALGORITHM} Credential=([^/]+)/(\d{{4}}-\d\d-\d\d)/([a-z]+)/tc3_request, "
                             r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
        if match is None:
            return "AuthFailure.InvalidAuthorization"
        secret_id, date, service, signed, signature = match.groups()
        if secret_id != self.secret_id:
            return "AuthFailure.SecretIdNotFound"
        signed_headers = signed.split(";")
        if not {"content-type", "host"} <= set(signed_headers) or service != SERVICE:
            return "AuthFailure.InvalidAuthorization"
        try:
            timestamp = int(request.headers.get("X-TC-Timestamp", ""))
        except ValueError:
            return "AuthFailure.InvalidAuthorization"
        if abs(time.time() - timestamp) > 300:
            return "AuthFailure.SignatureExpire"
        if datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d") != date:
            return "AuthFailure.SignatureFailure"
        headers = {name.lower(): value for name, value in request.headers.items()}
        expected = signature_of(self.secret_key, timestamp, request.method, request.path,
                                request.query_string.decode(), headers, signed_headers, body)
        if not hmac.compare_digest(expected, signature):
            return "AuthFailure.SignatureFailure"
        return None

    def _send(self, p: dict) -> Response:
        with self._lock:
            error = self._errors.pop(0) if self._errors else None
            scripted = self._codes.pop(0) if self._codes else None
            hang = self._hangs.pop(0) if self._hangs else 0
        error = error or self._request_error(p)
        if error is not None:
            return _error(error, error)
        statuses = [self._send_one(p, phone, scripted) for phone in p.get("PhoneNumberSet") or []]
        if hang:
            time.sleep(hang)
        return _json({"Response": {"SendStatusSet": statuses, "RequestId": _id()}})

    def _request_error(self, p: dict) -> str | None:
        if p.get("SmsSdkAppId") != self.app_id:
            return "UnauthorizedOperation.SmsSdkAppIdVerifyFail"
        if not p.get("PhoneNumberSet"):
            return "MissingParameter.EmptyPhoneNumberSet"
        if p.get("SignName") != self.sign_name:
            return "FailedOperation.SignatureIncorrectOrUnapproved"
        if p.get("TemplateId") not in self.templates:
            return "FailedOperation.TemplateIncorrectOrUnapproved"
        values = p.get("TemplateParamSet") or []
        if len(values) != len(self.templates[p["TemplateId"]][0]) or not all(isinstance(v, str) for v in values):
            return "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
        if self.max_param_length and any(len(v) > self.max_param_length for v in values):
            return "InvalidParameterValue.TemplateParameterLengthLimit"
        return None

    def _send_one(self, p: dict, phone: str, scripted: str | None) -> dict:
        code = scripted or self._refusal(phone)
        status = {"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "SessionContext": p.get("SessionContext", ""),
                  "Code": code or "Ok", "Message": code or "send success", "IsoCode": "CN"}
        if code is not None:
            return status
        values = p["TemplateParamSet"]
        content = f"【{p['SignName']}】" + re.sub(r"\{(\d+)\}", lambda m: values[int(m.group(1)) - 1],
                                                  self.templates[p["TemplateId"]][1])
        serial = f"2433:{secrets.randbelow(10**28):028d}"
        message = {"serial": serial, "phone": phone, "template_id": p["TemplateId"], "params": values,
                   "session_context": p.get("SessionContext", ""), "content": content, "sent_at": int(time.time())}
        with self._lock:
            if self.balance is not None:
                self.balance -= 1
            self.messages.append(message)
            self._reports.append(message)
        return {**status, "SerialNo": serial, "Fee": 1}

    def _refusal(self, phone: str) -> str | None:
        if self.balance is not None and self.balance <= 0:
            return "FailedOperation.InsufficientBalanceInSmsPackage"
        if not MAINLAND_MOBILE.match(phone):
            return "InvalidParameterValue.IncorrectPhoneNumber"
        return None

    def _pull(self, p: dict) -> Response:
        if p.get("SmsSdkAppId") != self.app_id:
            return _error("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "app")
        if not 0 < int(p.get("Limit") or 0) <= 100:
            return _error("InvalidParameterValue.LimitVerifyFail", "Limit")
        begin, end = int(p.get("BeginTime") or 0), int(p.get("EndTime") or 0)
        with self._lock:  # only messages the carrier reported on: Tencent lists no others
            found = [m for m in self.messages if m["phone"] == p.get("PhoneNumber") and not m.get("waiting")
                     and begin <= m["sent_at"] <= end]
        records = [{"UserReceiveTime": m["sent_at"], "CountryCode": "86", "SubscriberNumber": m["phone"][3:],
                    "PhoneNumber": m["phone"], "SerialNo": m["serial"],
                    "ReportStatus": "FAIL" if "errmsg" in m else "SUCCESS",
                    "Description": m.get("errmsg", "DELIVRD"),
                    "SessionContext": m["session_context"] if self.session_context_enabled else ""}
                   for m in found[-int(p["Limit"]):]]
        return _json({"Response": {"PullSmsSendStatusSet": records, "RequestId": _id()}})

    # --- the callbacks ---

    def reply(self, phone: str, text: str) -> None:
        """A handset answers: a reply callback waits to be made (11 digits and the country code, as Tencent gives)."""
        with self._lock:
            self._replies.append({"extend": "", "mobile": phone.removeprefix("+86"), "nationcode": "86",
                                  "sign": self.sign_name, "text": text, "time": int(time.time())})

    def fail_delivery(self, serial: str, errmsg: str = "MK:0001") -> None:
        """The carrier's report for this message will say it failed."""
        with self._lock:
            for m in self.messages:
                if m["serial"] == serial:
                    m["errmsg"] = errmsg

    def await_carrier(self, serial: str) -> None:
        """The carrier has not reported on this message yet: pulls do not list it."""
        with self._lock:
            for m in self.messages:
                if m["serial"] == serial:
                    m["waiting"] = True

    def push_replies(self, url: str, post: Poster) -> tuple[int, bytes]:
        """Make one reply callback per pending reply; each stays pending unless answered {"result": 0}."""
        with self._lock:
            pending = list(self._replies)
        answer: tuple[int, bytes] = (0, b"")
        for item in pending:
            answer = post(url, json.dumps(item, ensure_ascii=False).encode())
            if _acknowledged(*answer):
                with self._lock:
                    self._replies.remove(item)
        return answer

    def push_reports(self, url: str, post: Poster) -> tuple[int, bytes]:
        """Make one status callback for every message not yet reported (an array); pending unless acknowledged."""
        with self._lock:
            batch = [m for m in self._reports if not m.get("waiting")]
        if not batch:
            return 0, b""
        reports = [{"user_receive_time": datetime.fromtimestamp(m["sent_at"], BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                    "nationcode": "86", "mobile": m["phone"][3:],
                    "report_status": "FAIL" if "errmsg" in m else "SUCCESS", "errmsg": m.get("errmsg", "DELIVRD"),
                    "description": "用户短信接收失败" if "errmsg" in m else "用户短信送达成功", "sid": m["serial"]}
                   for m in batch]
        answer = post(url, json.dumps(reports, ensure_ascii=False).encode())
        if _acknowledged(*answer):
            with self._lock:
                for m in batch:
                    self._reports.remove(m)
        return answer

    @property
    def pending_callbacks(self) -> int:
        """How many replies and reports still wait for an acknowledged callback."""
        with self._lock:
            return len(self._replies) + len(self._reports)


def _acknowledged(status: int, answer: bytes) -> bool:
    try:
        return status == 200 and json.loads(answer).get("result") == 0
    except (ValueError, AttributeError):
        return False


def _json(payload: dict) -> Response:
    # Exactly "application/json": the SDK reads an Error only from a response of that type.
    return Response(json.dumps(payload, ensure_ascii=False), status=200, content_type="application/json")


def _error(code: str, message: str) -> Response:
    return _json({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": _id()}})


def _id() -> str:
    return f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-" \
           f"{secrets.token_hex(6)}"
