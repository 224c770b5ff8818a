"""A fake of Alibaba Cloud's SMS API (dysmsapi 2017-05-25: SendSms, QuerySendDetails) over real HTTP, which
checks every request's ACS3-HMAC-SHA256 signature as Alibaba publishes it, and pushes SmsUp / SmsReport
batches (JSON arrays) the way Alibaba's HTTP push does: a batch not answered {"code": 0} stays and is sent again.
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
from urllib.parse import parse_qsl, quote

from werkzeug.wrappers import Request, Response

from tests.loopback_server import LoopbackServer

ALGORITHM = "ACS3-HMAC-SHA256"
REQUIRED_SIGNED = {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                   "x-acs-content-sha256"}
MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
BEIJING = timezone(timedelta(hours=8))
# A poster: (url, JSON body) -> (HTTP status, answer body). Tests pass one on the Flask test client.
Poster = Callable[[str, bytes], tuple[int, bytes]]


def _rfc3986(value: str) -> str:
    return quote(value, safe="-_.~")


def signature_of(method: str, path: str, query: str, headers: dict[str, str], signed: list[str], body: bytes,
                 secret: str) -> str:
    """The ACS3-HMAC-SHA256 signature of a request, recomputed from Alibaba's published V3 algorithm."""
    pairs = sorted((_rfc3986(k), _rfc3986(v)) for k, v in parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    canonical = "\n".join([method, path or "/", canonical_query, canonical_headers, ";".join(signed),
                           hashlib.sha256(body).hexdigest()])
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


class FakeAliyunSms(LoopbackServer):
    """In-process HTTP fake of Alibaba Cloud SMS; `templates` maps TemplateCode -> (parameter names, text)."""

    thread_name = "fake-aliyun"

    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str,
                 templates: dict[str, tuple[tuple[str, ...], str]]):
        self.access_key_id, self.access_key_secret, self.sign_name = access_key_id, access_key_secret, sign_name
        self.templates = templates
        self._lock = threading.Lock()
        self._server = None
        self.reset()

    def reset(self) -> None:
        """Forget messages, scripted answers, nonces and pending pushes; the balance is unlimited."""
        with self._lock:
            self.messages: list[dict] = []
            self.requests: list[dict] = []
            self.refused: list[str] = []
            self._codes: list[str] = []
            self._hangs: list[float] = []
            self._nonces: set[str] = set()
            self.balance: int | None = None
            self._up: list[dict] = []
            self._reports: list[dict] = []
            self._sequence = 1000

    def answer_next(self, *codes: str) -> None:
        """The next SendSms requests (one per code) are refused with these codes, nothing sent."""
        self._codes.extend(codes)

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
            return _json({"Code": problem, "Message": "Specified signature does not match our calculation.",
                          "RequestId": _id()}, 404 if problem.startswith("InvalidAccessKeyId") else 400)(
                environ, start_response)
        action = request.headers.get("x-acs-action", "")
        params = dict(parse_qsl(request.query_string.decode(), keep_blank_values=True))
        with self._lock:
            self.requests.append({"action": action, **params})
        handler = self.actions().get(action)
        if handler is None:
            return _json({"Code": "InvalidAction.NotFound", "RequestId": _id()}, 404)(environ, start_response)
        return handler(params)(environ, start_response)

    def actions(self) -> dict[str, Callable[[dict], Response]]:
        """The API's actions this fake answers (x-acs-action -> handler of the request's parameters)."""
        return {"SendSms": self._send, "QuerySendDetails": self._details}

    def _check_signature(self, request: Request, body: bytes) -> str | None:
        auth = request.headers.get("Authorization", "")
        match = re.fullmatch(rf"{ALGORITHM} Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)", auth)
        if match is None:
            return "IncompleteSignature"
        key_id, signed, signature = match.group(1), match.group(2).split(";"), match.group(3)
        if key_id != self.access_key_id:
            return "InvalidAccessKeyId.NotFound"
        if not REQUIRED_SIGNED <= set(signed) or signed != sorted(signed):
            return "IncompleteSignature"
        if request.headers.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
            return "ContentSHA256NotMatched"
        try:
            sent_at = datetime.strptime(request.headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return "InvalidTimeStamp.Format"
        if abs(datetime.utcnow() - sent_at) > timedelta(minutes=15):
            return "InvalidTimeStamp.Expired"
        headers = {name.lower(): value for name, value in request.headers.items()}
        expected = signature_of(request.method, request.path, request.query_string.decode(), headers, signed,
                                body, self.access_key_secret)
        if not hmac.compare_digest(expected, signature):
            return "SignatureDoesNotMatch"
        nonce = headers["x-acs-signature-nonce"]
        with self._lock:
            if nonce in self._nonces:
                return "SignatureNonceUsed"
            self._nonces.add(nonce)
        return None

    def _send(self, p: dict) -> Response:
        with self._lock:
            scripted = self._codes.pop(0) if self._codes else None
            hang = self._hangs.pop(0) if self._hangs else 0
        code = scripted or self._refusal(p)
        if code is not None:
            return _json({"Code": code, "Message": code, "RequestId": _id()})
        names, text = self.templates[p["TemplateCode"]]
        values = json.loads(p["TemplateParam"])
        content = f"【{p['SignName']}】" + re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)
        biz_id = f"{secrets.randbelow(10**12):012d}^0"
        message = {"biz_id": biz_id, "phone": p["PhoneNumbers"], "template_code": p["TemplateCode"],
                   "params": values, "out_id": p.get("OutId", ""), "content": content,
                   "send_date": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")}
        with self._lock:
            if self.balance is not None:
                self.balance -= 1
            self.messages.append(message)
            self._reports.append(message)
        if hang:
            time.sleep(hang)
        return _json({"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": _id()})

    def _refusal(self, p: dict) -> str | None:
        if self.balance is not None and self.balance <= 0:
            return "isv.AMOUNT_NOT_ENOUGH"
        if p.get("SignName") != self.sign_name:
            return "isv.SMS_SIGNATURE_ILLEGAL"
        if p.get("TemplateCode") not in self.templates:
            return "isv.SMS_TEMPLATE_ILLEGAL"
        try:
            values = json.loads(p.get("TemplateParam") or "{}")
        except ValueError:
            return "isv.INVALID_JSON_PARAM"
        if not all(isinstance(values.get(n), str) for n in self.templates[p["TemplateCode"]][0]):
            return "isv.TEMPLATE_MISSING_PARAMETERS"
        if not MAINLAND_MOBILE.match(p.get("PhoneNumbers", "")):
            return "isv.MOBILE_NUMBER_ILLEGAL"
        return None

    def _details(self, p: dict) -> Response:
        day = p.get("SendDate", "")
        with self._lock:
            found = [m for m in self.messages if m["phone"] == p.get("PhoneNumber")
                     and m["send_date"][:10].replace("-", "") == day]
        size, page = int(p.get("PageSize", 10)), int(p.get("CurrentPage", 1))
        dtos = [{"PhoneNum": m["phone"], "SendStatus": _send_status(m), "ErrCode": m.get("err_code", "DELIVERED"),
                 "TemplateCode": m["template_code"],
                 "Content": m["content"], "SendDate": m["send_date"], "ReceiveDate": m["send_date"],
                 "OutId": m["out_id"]} for m in found[(page - 1) * size:page * size]]
        return _json({"Code": "OK", "Message": "OK", "TotalCount": len(found), "RequestId": _id(),
                      "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos}})

    # --- the HTTP push ---

    def reply(self, phone: str, content: str) -> None:
        """A handset answers: an SmsUp waits to be pushed (11 digits, as Alibaba gives the number)."""
        with self._lock:
            self._sequence += 1
            self._up.append({"phone_number": phone.removeprefix("+86"), "content": content,
                             "send_time": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                             "sign_name": self.sign_name, "dest_code": "", "sequence_id": self._sequence})

    def fail_delivery(self, biz_id: str, err_code: str = "MOBILE_NOT_ON_SERVICE") -> None:
        """The carrier's receipt for this message will say it failed."""
        with self._lock:
            for m in self._reports:
                if m["biz_id"] == biz_id:
                    m["err_code"] = err_code

    def await_carrier(self, biz_id: str) -> None:
        """The carrier has not answered for this message yet: QuerySendDetails says 1 (waiting)."""
        with self._lock:
            for m in self.messages:
                if m["biz_id"] == biz_id:
                    m["waiting"] = True

    def push_up(self, url: str, post: Poster) -> tuple[int, bytes]:
        """Push every pending SmsUp as one batch; they stay pending unless answered {"code": 0}."""
        return self._push(url, post, self._up, lambda item: item)

    def push_reports(self, url: str, post: Poster) -> tuple[int, bytes]:
        """Push a receipt for every message not yet reported, as one batch; pending unless answered code 0."""
        def report(m: dict) -> dict:
            failed = "err_code" in m
            return {"phone_number": m["phone"], "send_time": m["send_date"], "report_time": m["send_date"],
                    "success": not failed, "err_code": m.get("err_code", "DELIVERED"),
                    "err_msg": "失败" if failed else "用户接收成功", "sms_size": "1", "biz_id": m["biz_id"],
                    "out_id": m["out_id"]}
        return self._push(url, post, self._reports, report)

    def _push(self, url: str, post: Poster, pending: list, shape) -> tuple[int, bytes]:
        with self._lock:
            batch = list(pending)
        if not batch:
            return 0, b""
        status, answer = post(url, json.dumps([shape(i) for i in batch], ensure_ascii=False).encode())
        try:
            acknowledged = status == 200 and json.loads(answer).get("code") == 0
        except (ValueError, AttributeError):
            acknowledged = False
        if acknowledged:
            with self._lock:
                for item in batch:
                    pending.remove(item)
        return status, answer

    @property
    def pending_pushes(self) -> int:
        """How many SmsUp and receipts still wait for an acknowledged push."""
        with self._lock:
            return len(self._up) + len(self._reports)


def _send_status(message: dict) -> int:
    """QuerySendDetails' SendStatus of a message: 1 waiting for the carrier, 2 failed, 3 delivered."""
    return 1 if message.get("waiting") else 2 if "err_code" in message else 3


def _json(payload: dict, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    content_type="application/json;charset=utf-8")


def _id() -> str:
    return secrets.token_hex(16).upper()
