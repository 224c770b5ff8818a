"""The Alibaba Cloud voice side of the fault run (`--voice-provider aliyun`): the project's voice fake with a clock,
the people who pick up (supervisors pressing 1, landline residents listening, residents answering the arrival call
1 or 2 or letting it ring out), and the pusher bringing their VoiceReports to the app's real URL."""
from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter
from pathlib import Path

from models.phone import try_normalise
from tests.aliyun_helpers import AK_ID, AK_SECRET, SHOW_NUMBER, approved
from tests.aliyun_voice_fake import FakeAliyunVoice

from .aliyun import PUSH_TOKEN, Pusher

ANSWER_DELAY = (1.0, 4.0)   # seconds from a call placed to the person's answer (or the ring-out)
SLOW_CALL = 8.0             # the late answer of the slow-answer fault, past ALIYUN_TIMEOUT_SECONDS (5)


def _kinds() -> dict[str, str]:
    return {raw["code"]: kind for kind, raw in approved()["voice"]["templates"].items()}


class TimedFakeAliyunVoice(FakeAliyunVoice):
    """FakeAliyunVoice that logs every call request (start, end, To, what it says, code, CallId, OutId)."""

    def __init__(self):
        tts = {raw["code"]: (tuple(raw["params"]), raw["text"]) for raw in approved()["voice"]["templates"].values()}
        super().__init__(AK_ID, AK_SECRET, tts, {SHOW_NUMBER})
        self.timeline: list[dict] = []
        self._timeline_lock = threading.Lock()

    def slow_down(self, seconds: float, for_seconds: float, after: bool = False) -> None:
        """Worker kills slow the fakes down; calls are not slowed (a kill mid-call would be the kill's duplicate)."""

    def client_ports(self) -> list[int]:
        return []

    def _place(self, p: dict, action: str, code: str, param: str | None, extra: dict):
        start = time.time()
        response = super()._place(p, action, code, param, extra)
        answer = json.loads(response.get_data())
        with self._timeline_lock:
            self.timeline.append({"start": start, "end": time.time(), "kind": "call",
                                  "to": try_normalise(p.get("CalledNumber", "")) or "", "body": self._said(code, param),
                                  "status": 201 if answer["Code"] == "OK" else answer["Code"],
                                  "sid": answer.get("CallId"), "key": f"#{p.get('OutId', '')}"})
        return response

    def _said(self, code: str, param: str | None) -> str:
        names_text = self.tts.get(code)
        try:
            values = json.loads(param) if param else {}
        except ValueError:
            values = {}
        return "" if names_text is None else re.sub(r"\$\{(\w+)\}", lambda m: str(values.get(m.group(1), "")),
                                                    names_text[1])

    def timeline_copy(self) -> list[dict]:
        with self._timeline_lock:
            return list(self.timeline)

    def placed(self) -> list[dict]:
        """The calls placed so far, in order."""
        with self._lock:
            return list(self.calls)


class VoicePusher(Pusher):
    """Alibaba's VoiceReport push, with the SMS pusher's lost answers and batches pushed twice."""

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.fake.push_voice_reports(self._url("voice-report"), self._post)


class AliyunVoiceSide:
    """Calls through Alibaba's voice fake; the called people answer, and their VoiceReports are pushed."""

    name = "aliyun"

    def __init__(self, twilio, hooks, seed: int):
        self.fake = TimedFakeAliyunVoice().start()
        self.pusher = VoicePusher(self.fake, hooks.base_url, seed + 1)
        self.fakes = [self.fake]
        self.rng = random.Random(seed + 2)
        self.kinds = _kinds()
        self.outcomes: dict[str, str] = {}      # call id -> the keys pressed, "" listened, None rang out
        self.key1_cases: dict[str, str] = {}    # call id -> the case code a supervisor acknowledged by key 1
        self._due: list[tuple[float, dict, str | None]] = []
        self._seen = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._people, name="aliyun-voice-people", daemon=True)

    def env(self, instance: Path) -> dict:
        """VOICE_PROVIDER=aliyun against the fake; supervisors are called from the second alert round on."""
        import json as _json

        instance.mkdir(parents=True, exist_ok=True)
        path = instance / "aliyun_templates.json"
        path.write_text(_json.dumps(approved(), ensure_ascii=False), encoding="utf-8")
        return {"VOICE_PROVIDER": "aliyun", "ALIYUN_ACCESS_KEY_ID": AK_ID, "ALIYUN_ACCESS_KEY_SECRET": AK_SECRET,
                "ALIYUN_TEMPLATES": str(path), "ALIYUN_VOICE_ENDPOINT": self.fake.endpoint,
                "ALIYUN_VOICE_SHOW_NUMBER": SHOW_NUMBER, "ALIYUN_TIMEOUT_SECONDS": "5",
                "ALIYUN_PUSH_TOKEN": PUSH_TOKEN, "ALERT_MAX_REPEATS": "1"}

    def start(self) -> None:
        self.pusher.start()
        self._thread.start()

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.pusher.stop()
        self.fake.stop()

    def calls(self) -> list[dict]:
        """The calls placed: sid, to (E.164), what they said, and the outbox row (`#id`, Alibaba's OutId)."""
        return [{"sid": c["call_id"], "to": try_normalise(c["number"]) or c["number"], "said": c["said"],
                 "key": f"#{c['out_id']}"} for c in self.fake.placed()]

    def pending(self) -> int:
        """Calls nobody has answered yet, and VoiceReports not yet acknowledged."""
        with self._lock:
            waiting = len(self._due) + len(self.fake.placed()) - self._seen
        return waiting + self.fake.pending_pushes

    # -- the people called ----------------------------------------------------------------------------------
    def _people(self) -> None:
        while not self._stop.wait(0.3):
            placed = self.fake.placed()
            with self._lock:
                new, self._seen = placed[self._seen:], len(placed)
                self._due += [(time.time() + self.rng.uniform(*ANSWER_DELAY), c, self._choose(c)) for c in new]
                due = [d for d in self._due if d[0] <= time.time()]
                self._due = [d for d in self._due if d[0] > time.time()]
            for _, call, keys in due:
                if keys is None:
                    self.fake.ring_out(call)
                else:
                    self.fake.answer(call, keys)
                with self._lock:
                    self.outcomes[call["call_id"]] = keys  # type: ignore[assignment]

    def _choose(self, call: dict) -> str | None:
        """What the called person does: keys pressed ("" listened to the end) or None (rang out)."""
        kind, r = self.kinds.get(call["tts_code"], ""), self.rng.random()
        if kind == "case_call":
            if r < 0.6:
                self.key1_cases[call["call_id"]] = call["params"].get("digits", "").replace(" ", "")
                return "1"
            return None if r < 0.8 else ""
        if kind == "arrival_call":
            return "1" if r < 0.5 else "2" if r < 0.7 else None
        if kind == "satisfaction_call":
            return self.rng.choice("123")
        return ""   # a notice: listened to

    # -- faults and figures ---------------------------------------------------------------------------------
    def faults(self, f) -> list[tuple[float, str, object]]:
        """Alibaba's own fault on a call (retried), a call answered after the timeout, VoiceReport answers lost."""
        return [
            (0.30, "Alibaba call isp.SYSTEM_ERROR (x2)", lambda: f.refuse(self.fake, ["isp.SYSTEM_ERROR"] * 2)),
            (0.45, "VoiceReport answers lost (x4)", lambda: self._lose(4)),
            (0.70, f"Alibaba call answers in {SLOW_CALL:.0f} s", lambda: self._slow()),
        ]

    def _lose(self, n: int) -> dict:
        self.pusher.lose_answers(n)
        return {"lost": n}

    def _slow(self) -> dict:
        self.fake.hang_next(SLOW_CALL)
        return {"hang": SLOW_CALL}

    def figures(self, ev) -> dict:
        """Duplicates per OutId, calls never settled, key 1 not acknowledging, replays acting twice, limits."""
        placed = self.fake.placed()
        per_row = Counter(c["out_id"] for c in placed)
        rows = {str(m.id): m for m in ev.outbound if m.channel == "call"}
        unsettled = [c["call_id"] for c in placed if rows.get(c["out_id"]) is None
                     or rows[c["out_id"]].status not in ("delivered", "failed")
                     or (per_row[c["out_id"]] == 1 and rows[c["out_id"]].provider_sid != c["call_id"])]
        cases = {c.code: c for c in ev.cases}
        not_acked = [code for code in self.key1_cases.values()
                     if code not in cases or cases[code].acknowledged_at is None]
        limited = [m for m in ev.outbound if m.channel == "call" and "BUSINESS_LIMIT_CONTROL" in (m.error or "")]
        timeline = self.fake.timeline_copy()
        refusals = [r for r in timeline if r["status"] == "isv.BUSINESS_LIMIT_CONTROL"]
        # Answered after ALIYUN_TIMEOUT_SECONDS: the adapter never places it again; its report must settle it.
        late = [r for r in timeline if r["status"] == 201 and r["end"] - r["start"] >= SLOW_CALL - 1]
        # The rows Alibaba refused for the number's limit, and what became of them (a row placed later by the
        # held-call flush no longer says why it was held: what is not held, cancelled nor merged went out).
        refused_rows = {m.id for m in limited} | {int(r["key"][1:]) for r in refusals if r["key"][1:].isdigit()}
        by_id = {m.id: m for m in ev.outbound}
        held = Counter(by_id[i].status if by_id[i].status in ("held", "cancelled", "merged") else "placed later"
                       for i in refused_rows if i in by_id)
        late_settled = [r for r in late if per_row[r["key"][1:]] == 1 and rows.get(r["key"][1:]) is not None
                        and rows[r["key"][1:]].provider_sid == r["sid"]
                        and rows[r["key"][1:]].status in ("delivered", "failed")]
        return {
            "voice_placed": placed, "voice_outcomes": Counter(
                "rang out" if k is None else "listened" if k == "" else f"key {k}" for k in self.outcomes.values()),
            "voice_dups": [o for o, n in per_row.items() if n > 1], "voice_unsettled": unsettled,
            "voice_key1_not_acked": not_acked, "voice_double_effects": ev.double_effects,
            "voice_pending": self.fake.pending_pushes, "voice_refusals": len(refusals),
            "voice_held": held,
            "voice_limited_rows": len(refused_rows),
            "voice_replays_bad": [r for r in self.pusher.replays if r["status"] != 200 or not r["ok"]],
            "voice_acked_by_key": ev.voice_acks, "voice_late": len(late),
            "voice_late_unsettled": [r["key"] for r in late if r not in late_settled],
        }

    def rows(self, row, f: dict) -> None:
        """The voice side's lines of the table."""
        p = self.pusher
        outcomes = ", ".join(f"{k} {n}" for k, n in sorted(f["voice_outcomes"].items()))
        row("Alibaba calls placed (answers)", f"{len(f['voice_placed'])} ({outcomes})")
        row("  duplicate calls per OutId", f["voice_dups"], True)
        row("  calls placed but never settled by a report", f["voice_unsettled"], True)
        row("  calls answered after the timeout (uncertain) / not settled by their report",
            f"{f['voice_late']} / {len(f['voice_late_unsettled'])}", bool(f["voice_late_unsettled"]))
        row("  key-1 reports that did not acknowledge their case", f["voice_key1_not_acked"], True)
        row("  cases acknowledged by a supervisor's key 1", f["voice_acked_by_key"])
        statuses = ", ".join(f"{k}: {n}" for k, n in sorted(p.by_status.items()))
        row("  VoiceReport pushes", f"{p.pushes} (HTTP {statuses}); answers lost {p.lost_answers}, "
            f"pushed twice {len(p.replays)}")
        row("  VoiceReports pushed twice not answered code 0", f["voice_replays_bad"], True)
        row("  VoiceReports that changed anything twice", f["voice_double_effects"], True)
        row("  VoiceReports still unacknowledged at the end", f["voice_pending"], True)
        held = ", ".join(f"{k} {n}" for k, n in sorted(f["voice_held"].items())) or "-"
        row("  per-number limit refusals (rows; now)", f"{f['voice_refusals']} ({f['voice_limited_rows']}; {held})")
