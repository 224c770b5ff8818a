"""The traffic: a thread pool, delayed actions, replays and bursts of identical deliveries, forged requests,
and the people on the other side (technicians answering offer SMS, officers acknowledging case alerts), whose
SMS reach the app the way the SMS provider (chaos.sides) brings them: Twilio's webhooks, or Alibaba's push."""
from __future__ import annotations

import heapq
import random
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .client import Answer, Call, Webhooks

OFFER_RE = re.compile(r"派单(\d{6})")
CASE_RE = re.compile(r"个案(\d{6})")
ACCEPTED_RE = re.compile(r"已接单(\d{6})")
REPLAY_SHARE = 0.10


@dataclass
class CallRecord:
    """One call as the driver made it, and what it must have left in the database."""

    sid: str
    kind: str
    from_: str
    codes: set = field(default_factory=set)
    statuses: list = field(default_factory=list)
    expect_order: bool = False
    expect_alert: bool = False
    finished: bool = False


class Driver:
    """Shared machinery of the drive; scenarios (chaos.scenarios) use it."""

    def __init__(self, hooks: Webhooks, side, phones: dict, numbers: dict, seed: int, threads: int = 24):
        self.hooks, self.side, self.phones, self.numbers = hooks, side, phones, numbers
        self.rng = random.Random(seed)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="drive")
        self.lock = threading.Lock()
        self.calls: dict[str, CallRecord] = {}
        self.forged: list[dict] = []
        self.replays: list[dict] = []
        self.bursts: list[dict] = []
        self.tech_actions = {"accept": 0, "won": 0, "decline": 0, "arrived": 0, "done": 0}
        self.acks = 0
        self.settle = False          # quiescence phase: everyone answers promptly
        self._timers: list = []
        self._timer_seq = 0
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._seen_msgs = 0
        self._case_alerts: dict[str, int] = {}
        self._acked: set[str] = set()
        self._won: set[tuple[str, str]] = set()
        self.errors: list[str] = []
        self._threads = [threading.Thread(target=self._timer_loop, name="timers", daemon=True),
                         threading.Thread(target=self._people_loop, name="people", daemon=True)]
        for t in self._threads:
            t.start()

    # -- running things -------------------------------------------------------------------------------------
    def submit(self, fn, *args):
        def guarded():
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - a driver bug must show, not kill the run
                with self.lock:
                    self.errors.append(f"{getattr(fn, '__name__', fn)}: {type(exc).__name__}: {exc}")
        return self.pool.submit(guarded)

    def later(self, delay: float, fn, *args) -> None:
        with self._wake:
            self._timer_seq += 1
            heapq.heappush(self._timers, (time.time() + delay, self._timer_seq, fn, args))
            self._wake.notify()

    def _timer_loop(self) -> None:
        while not self._stop.is_set():
            with self._wake:
                now = time.time()
                if self._timers and self._timers[0][0] <= now:
                    _, _, fn, args = heapq.heappop(self._timers)
                else:
                    self._wake.wait(min(0.2, self._timers[0][0] - now) if self._timers else 0.2)
                    continue
            self.submit(fn, *args)

    def pending_timers(self) -> int:
        with self._wake:
            return len(self._timers)

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def record(self, rec: CallRecord) -> CallRecord:
        with self.lock:
            self.calls[rec.sid] = rec
        return rec

    # -- replays --------------------------------------------------------------------------------------------
    def maybe_replay(self, answer: Answer) -> None:
        """~10% of deliveries are delivered again as Twilio retries them: now, later, or several at once."""
        if answer.status != 200:
            return
        r = self.rng.random()
        if r < 0.04:
            self._replay(answer)
        elif r < 0.07:
            self.later(self.rng.uniform(0.3, 3.0), self._replay, answer)
        elif r < 0.09:
            for _ in range(4):
                self.submit(self._replay, answer)
        elif r < REPLAY_SHARE + 0.02:   # a re-delivery with a new idempotency token: same effect expected
            self.later(self.rng.uniform(0.3, 2.0), self._replay, answer, True)

    def _replay(self, answer: Answer, new_token: bool = False) -> None:
        again = Answer(answer.path, answer.params, secrets.token_hex(16) if new_token else answer.token,
                       answer.signature)
        got = self.hooks.deliver(again)
        with self.lock:
            self.replays.append({"path": answer.path, "new_token": new_token, "status": got.status,
                                 "same": got.status == 200 and got.text == answer.text})

    def burst(self, call: Call, path: str, n: int, **extra) -> Answer:
        """`n` identical deliveries (one idempotency token) released at the same instant."""
        path = self.hooks.path_of(path)
        params = {k: str(v) for k, v in call.params(**extra).items()}
        template = Answer(path, params, secrets.token_hex(16), self.hooks.sign(path, params))
        barrier, got = threading.Barrier(n), [None] * n

        def one(i):
            barrier.wait()
            got[i] = self.hooks.deliver(template)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        call.last_path = path
        with self.lock:
            self.bursts.append({"sid": call.sid, "path": path, "n": n, "statuses": [a.status for a in got],
                                "distinct": len({a.text for a in got})})
        return got[0]

    # -- forged requests ------------------------------------------------------------------------------------
    def forge(self) -> None:
        """One request Twilio did not sign (unsigned, another token, another URL, or changed after signing), or
        with Alibaba now and then a push with a wrong token."""
        if self.rng.random() < 0.4 and self.side.forge(self.rng, self.phones):
            return
        how = self.rng.choice(["none", "wrong", "url", "tamper"])
        kind = self.rng.choice(["call", "menu", "sms", "ack"])
        numbers, sid = self.numbers, None
        if kind in ("call", "menu"):
            call = Call(self.hooks, self.rng.choice(self.phones["residents"]), numbers["elderly"])
            sid = call.sid
            menu = "/twilio/voice/menu?node=menu&category=&silences=0&invalid=0&end=1"
            path = "/twilio/voice" if kind == "call" else menu
            params = call.params(**({} if kind == "call" else {"Digits": "2"}))
            tamper = {"From": numbers["child"]} if kind == "call" else {"Digits": "5"}
        else:
            frm = self.rng.choice(self.phones["technicians" if kind == "sms" else "officers"])
            body = f"1 {self.rng.randrange(10**6):06d}" if kind == "sms" else f"收到 {self.rng.randrange(10**6):06d}"
            params = self.hooks.sms_params(frm, numbers["elderly"], body)
            sid, path, tamper = params["MessageSid"], "/twilio/sms", {"Body": "1"}
        if how == "tamper":
            answer = self.hooks.post(path, params, tamper=tamper)
        else:
            answer = self.hooks.post(path, params, sign=how)
        with self.lock:
            self.forged.append({"kind": kind, "how": how, "sid": sid, "status": answer.status})

    # -- the people answering SMS ---------------------------------------------------------------------------
    def _people_loop(self) -> None:
        while not self._stop.wait(0.3):
            messages = self.side.sent()
            new, self._seen_msgs = messages[self._seen_msgs:], len(messages)
            for m in new:
                try:
                    self._on_message(m)
                except Exception as exc:  # noqa: BLE001
                    self.errors.append(f"people: {type(exc).__name__}: {exc}")

    def _on_message(self, m: dict) -> None:
        body, to = m["body"], m["to"]
        offer = OFFER_RE.search(body)
        if offer and to in self.phones["technicians"]:
            code, urgent = offer.group(1), body.startswith("急")
            r = 0.0 if self.settle else self.rng.random()
            delay = self.rng.uniform(0.0, 0.4) if urgent else self.rng.uniform(0.3, 3.0)
            if r < 0.72:
                word = self.rng.choice(["1 {c}", "接单 {c}", "{c} 1", "Y {c}"]).format(c=code)
                self.later(delay, self.tech_reply, to, word, "accept")
            elif r < 0.82:
                self.later(delay, self.tech_reply, to, f"2 {code}", "decline")
            return
        won = ACCEPTED_RE.search(body)
        if won and self.side.answers_by_sms and to in self.phones["technicians"]:
            self._accepted(to, won.group(1))
            return
        case = CASE_RE.search(body)
        if case and to in self.phones["officers"]:
            code = case.group(1)
            with self.lock:
                seen = self._case_alerts[code] = self._case_alerts.get(code, 0) + 1
                acked = code in self._acked
            if acked:
                return
            if self.settle or (seen == 1 and self.rng.random() < 0.5) or seen >= 5:
                with self.lock:
                    self._acked.add(code)
                self.later(self.rng.uniform(0.5, 3.0), self.officer_ack, to, code)
                if self.rng.random() < 0.2:  # a second officer answers the same alert at the same moment
                    other = self.rng.choice(self.phones["officers"])
                    self.later(self.rng.uniform(0.5, 3.0), self.officer_ack, other, code)

    def sms(self, from_: str, body: str) -> Answer | None:
        """A handset's SMS to the hotline; Twilio's answer (TwiML), or None when the answer comes as an SMS."""
        return self.side.reply(self, from_, body)

    def tech_reply(self, tech: str, body: str, intent: str) -> None:
        answer = self.sms(tech, body)
        with self.lock:
            self.tech_actions[intent] += 1
        won = answer is not None and ACCEPTED_RE.search(answer.says())
        if intent == "accept" and won:
            self._accepted(tech, won.group(1))

    def _accepted(self, tech: str, code: str) -> None:
        """The technician won the order: he arrives (sometimes says so) and finishes it."""
        with self.lock:
            if (tech, code) in self._won:
                return
            self._won.add((tech, code))
            self.tech_actions["won"] += 1
        if self.settle or self.rng.random() < 0.9:
            if self.rng.random() < 0.5:
                self.later(self.rng.uniform(0.5, 2.0), self.tech_reply, tech, f"到达 {code}", "arrived")
            self.later(self.rng.uniform(2.0, 5.0), self.tech_reply, tech, f"完成 {code}", "done")

    def officer_ack(self, officer: str, code: str) -> None:
        self.sms(officer, f"收到 {code}")
        with self.lock:
            self.acks += 1
