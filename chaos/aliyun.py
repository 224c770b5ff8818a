"""The Alibaba Cloud side of the fault run: the project's Alibaba SMS fake with a clock and a slow-down, and the
pusher that delivers its SmsUp / SmsReport batches to the app over real HTTP as Alibaba's HTTP push does (again
and again until answered {"code": 0}), with answers lost, batches pushed twice and pushes with a wrong token."""
from __future__ import annotations

import json
import random
import re
import threading
import time

import requests

from tests.aliyun_fake import FakeAliyunSms
from tests.aliyun_helpers import AK_ID, AK_SECRET, SIGN_NAME, approved

PUSH_TOKEN = "chaos-push-token-" + "5" * 16
FORGED_SEQUENCE = 900_000_000   # sequence ids of forged SmsUp: never Alibaba's (the fake counts from 1000)
FORGED_ERR = "CHAOS_FORGED"     # err_code of forged SmsReport items: no outbox row may ever show it
PUSH_REPLAY_SHARE = 0.10


class TimedFakeAliyun(FakeAliyunSms):
    """FakeAliyunSms that logs every SendSms (start, end, To, text, code, BizId, OutId) and can be slowed down:
    before accepting (a worker killed meanwhile leaves the send to the fake) or after (accepted, answered late)."""

    def __init__(self):
        templates = {raw["code"]: (tuple(raw["params"]), raw["text"]) for raw in approved()["templates"].values()}
        super().__init__(AK_ID, AK_SECRET, SIGN_NAME, templates)
        self.timeline: list[dict] = []
        self._timeline_lock = threading.Lock()
        self.slow_until = self.slow_seconds = 0.0
        self.slow_after = False
        self.in_flight: dict[int, float] = {}

    def slow_down(self, seconds: float, for_seconds: float, after: bool = False) -> None:
        """Every SendSms waits `seconds` for the next `for_seconds`: before it is accepted, or `after`."""
        self.slow_after, self.slow_seconds, self.slow_until = after, seconds, time.time() + for_seconds

    def _wsgi(self, environ, start_response):
        port = int(environ.get("REMOTE_PORT") or 0)
        with self._timeline_lock:
            self.in_flight[port] = time.time()
        try:
            return super()._wsgi(environ, start_response)
        finally:
            with self._timeline_lock:
                self.in_flight.pop(port, None)

    def _send(self, p: dict):
        start = time.time()
        slow = start < self.slow_until
        if slow and not self.slow_after:
            time.sleep(self.slow_seconds)
        if slow and self.slow_after:
            self.hang_next(self.slow_seconds)
        response = super()._send(p)
        answer = json.loads(response.get_data())
        with self._timeline_lock:
            self.timeline.append({"start": start, "end": time.time(), "kind": "sms",
                                  "to": "+86" + p.get("PhoneNumbers", ""), "body": self._text(p),
                                  "status": 201 if answer["Code"] == "OK" else answer["Code"],
                                  "sid": answer.get("BizId"), "key": p.get("OutId", "")})
        return response

    def _text(self, p: dict) -> str:
        """The message's text as the handset shows it, without the signature."""
        names_text = self.templates.get(p.get("TemplateCode", ""))
        try:
            values = json.loads(p.get("TemplateParam") or "{}")
        except ValueError:
            values = {}
        if names_text is None:
            return ""
        return re.sub(r"\$\{(\w+)\}", lambda m: str(values.get(m.group(1), "")), names_text[1])

    def client_ports(self) -> list[int]:
        """Local ports of the clients whose request is being handled right now."""
        with self._timeline_lock:
            return list(self.in_flight)

    def timeline_copy(self) -> list[dict]:
        """Every SendSms so far."""
        with self._timeline_lock:
            return list(self.timeline)

    def sms_sent(self) -> list[dict]:
        """The SMS accepted so far, in order, as the driver reads them: to (E.164), body (text), sid, key."""
        with self._lock:
            messages = list(self.messages)
        sign = f"【{self.sign_name}】"
        return [{"to": "+86" + m["phone"], "body": m["content"].removeprefix(sign), "sid": m["biz_id"],
                 "key": m["out_id"]} for m in messages]

    def handset_replies(self) -> int:
        """How many SmsUp the handsets have sent (each has a sequence id above 1000)."""
        with self._lock:
            return self._sequence - 1000


class Pusher:
    """Alibaba's HTTP batch push against the app at `base_url`, in a thread, every `every` seconds."""

    def __init__(self, fake: TimedFakeAliyun, base_url: str, seed: int, every: float = 0.3):
        self.fake, self.base_url, self.every = fake, base_url.rstrip("/"), every
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.pushes = 0
        self.by_status: dict = {}
        self.replays: list[dict] = []      # a batch pushed again after it was acknowledged
        self.forged: list[dict] = []       # pushes with a wrong token
        self.lost_answers = 0              # answers the "network" lost: the batch comes again
        self._lose = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Pusher:
        self._thread = threading.Thread(target=self._loop, name="aliyun-push", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(15)

    def lose_answers(self, n: int) -> None:
        """The next `n` pushes reach the app but their answers never reach Alibaba: it pushes them again."""
        with self.lock:
            self._lose += n

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.fake.push_up(self._url("sms-up"), self._post)
            self.fake.push_reports(self._url("sms-report"), self._post)

    def _url(self, what: str, token: str = PUSH_TOKEN) -> str:
        return f"{self.base_url}/aliyun/{token}/{what}"

    def _raw(self, url: str, body: bytes) -> tuple[int, bytes]:
        try:
            resp = requests.post(url, data=body, timeout=30, headers={
                "Content-Type": "application/json;charset=utf-8", "Connection": "close"})
            return resp.status_code, resp.content
        except requests.RequestException:
            return 0, b""

    def _post(self, url: str, body: bytes) -> tuple[int, bytes]:
        status, answer = self._raw(url, body)
        with self.lock:
            self.pushes += 1
            self.by_status[status] = self.by_status.get(status, 0) + 1
            lose = self._lose > 0 and status == 200
            self._lose -= 1 if lose else 0
            self.lost_answers += 1 if lose else 0
        if lose:
            return 502, b"Bad Gateway"
        if status == 200 and _acknowledged(answer) and self.rng.random() < PUSH_REPLAY_SHARE:
            again, got = self._raw(url, body)  # Alibaba pushes an acknowledged batch once more
            with self.lock:
                self.replays.append({"url": url.rsplit("/", 1)[1], "status": again, "ok": _acknowledged(got)})
        return status, answer

    def forge(self, what: str, item: dict) -> None:
        """One push with a wrong token (a guessed URL): it must get 403 and change nothing."""
        token = self.rng.choice(["x", PUSH_TOKEN[:-1], PUSH_TOKEN + "0", PUSH_TOKEN.upper()])
        status, _ = self._raw(self._url(what, token), json.dumps([item], ensure_ascii=False).encode())
        with self.lock:
            self.forged.append({"what": what, "status": status, **item})


def _acknowledged(answer: bytes) -> bool:
    try:
        return json.loads(answer).get("code") == 0
    except (ValueError, AttributeError):
        return False
