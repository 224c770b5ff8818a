"""A fake of Alibaba Cloud's voice API (dyvms 2017-05-25: SingleCallByTts, IvrCall) over real HTTP, on the SMS
fake's server style and ACS3-HMAC-SHA256 signature check: Alibaba's answers {Code, Message, CallId, RequestId}, its
error codes, its per-number limits (1 call a minute, 5 an hour, 20 a day to one called number, failed calls
included), and the VoiceReport batches its HTTP push sends once a call ends (a batch not answered {"code": 0}
stays and is pushed again). A test "answers" a call with keys, or lets it ring out.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime

from werkzeug.wrappers import Response

from tests.aliyun_fake import BEIJING, FakeAliyunSms, Poster, _id, _json

CALLED = re.compile(r"^(1[3-9]\d{9}|0\d{9,11})$")  # a mainland mobile, or a landline with its area code
LIMITS = ((1, 60), (5, 3600), (20, 86400))  # calls per seconds, to one called number
MAX_TTS_PARAM = 250
Tts = dict[str, tuple[tuple[str, ...], str]]  # TtsCode -> (parameter names, text)


class FakeAliyunVoice(FakeAliyunSms):
    """In-process HTTP fake of Alibaba Cloud voice; `tts` maps TtsCode -> (parameter names, text); calls may show
    only `show_numbers` (the numbers the account bought)."""

    def __init__(self, access_key_id: str, access_key_secret: str, tts: Tts, show_numbers: set[str]):
        self.tts, self.show_numbers = tts, show_numbers
        super().__init__(access_key_id, access_key_secret, "", {})

    def reset(self) -> None:
        """Forget calls, limits' counts, pending reports; the clock is the real one again."""
        super().reset()
        with self._lock:
            self.calls: list[dict] = []
            self._placed: dict[str, list[float]] = {}
            self._voice_reports: list[dict] = []
            self.clock: Callable[[], float] = time.time

    def actions(self) -> dict[str, Callable[[dict], Response]]:
        """SingleCallByTts and IvrCall."""
        return {"SingleCallByTts": self._single, "IvrCall": self._ivr}

    # --- the API ---

    def _single(self, p: dict) -> Response:
        return self._place(p, "SingleCallByTts", p.get("TtsCode", ""), p.get("TtsParam"), {})

    def _ivr(self, p: dict) -> Response:
        keys = {}
        for name, value in p.items():
            match = re.fullmatch(r"MenuKeyMap\.(\d+)\.(Key|Code)", name)
            if match:
                keys.setdefault(match.group(1), {})[match.group(2)] = value
        menu = {entry.get("Key", ""): entry.get("Code", "") for entry in keys.values()}
        if not p.get("CalledShowNumber"):
            return _refuse("isv.DISPLAY_NUMBER_ILLEGAL")
        if any(code not in self.tts for code in menu.values()) or (p.get("ByeCode") and p["ByeCode"] not in self.tts):
            return _refuse("isv.TTS_TEMPLATE_ILLEGAL")
        if not p.get("Timeout", "").isdigit():
            return _refuse("InvalidParameter")
        return self._place(p, "IvrCall", p.get("StartCode", ""), p.get("StartTtsParams"),
                           {"menu": menu, "bye": p.get("ByeCode", ""), "timeout_ms": int(p["Timeout"])})

    def _place(self, p: dict, action: str, code: str, param: str | None, extra: dict) -> Response:
        with self._lock:
            scripted = self._codes.pop(0) if self._codes else None
            hang = self._hangs.pop(0) if self._hangs else 0
        problem = scripted or self._refusal_of(p, code, param)
        if problem is not None:
            return _refuse(problem)
        number, now = p["CalledNumber"], self.clock()
        with self._lock:
            placed = self._placed.setdefault(number, [])
            if any(sum(1 for at in placed if now - at < seconds) >= most for most, seconds in LIMITS):
                return _refuse("isv.BUSINESS_LIMIT_CONTROL", "触发业务流控限制")
            placed.append(now)
            names, text = self.tts[code]
            values = json.loads(param) if param else {}
            call = {"call_id": f"{secrets.randbelow(10**12):012d}^{secrets.randbelow(10**11):011d}",
                    "action": action, "number": number, "show_number": p.get("CalledShowNumber", ""),
                    "tts_code": code, "params": values, "out_id": p.get("OutId", ""),
                    "play_times": int(p.get("PlayTimes") or 3),
                    "said": re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text), **extra}
            self.calls.append(call)
        if hang:
            time.sleep(hang)
        return _json({"Code": "OK", "Message": "OK", "CallId": call["call_id"], "RequestId": _id()})

    def _refusal_of(self, p: dict, code: str, param: str | None) -> str | None:
        if not CALLED.match(p.get("CalledNumber", "")):
            return "isv.MOBILE_NUMBER_ILLEGAL"
        show = p.get("CalledShowNumber")
        if show and show not in self.show_numbers:
            return "isv.DISPLAY_NUMBER_ILLEGAL"
        if code not in self.tts:
            return "isv.TTS_TEMPLATE_ILLEGAL"
        out_id = p.get("OutId")
        if out_id is not None and not 1 <= len(out_id.encode()) <= 15:
            return "InvalidParameter"
        if not 1 <= int(p.get("PlayTimes") or 3) <= 3:
            return "InvalidParameter"
        names = self.tts[code][0]
        try:
            values = json.loads(param) if param else {}
        except ValueError:
            return "isv.TEMPLATE_PARAMS_ILLEGAL"
        if len(param or "") > MAX_TTS_PARAM or not all(isinstance(values.get(n), str) for n in names):
            return "isv.TEMPLATE_PARAMS_ILLEGAL"
        return None

    # --- the call's end and the HTTP push ---

    def answer(self, call: dict, keys: str = "", status_code: str = "200000") -> None:
        """The called party picks up, listens and presses `keys` ("" for none); a VoiceReport waits to be pushed."""
        self._report(call, status_code, "用户听完语音" if keys == "" else "DTMF按键", keys, duration=20)

    def ring_out(self, call: dict, status_code: str = "200003") -> None:
        """Nobody picks up (200003; 200002 busy, ...): a VoiceReport of the unanswered call waits to be pushed."""
        self._report(call, status_code, "用户收到呼叫但未接听", "", duration=0)

    def _report(self, call: dict, status_code: str, message: str, keys: str, duration: int) -> None:
        stamp = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        answered = duration > 0
        with self._lock:
            self._voice_reports.append({
                "call_id": call["call_id"], "out_id": call["out_id"], "caller": call["show_number"] or "057100000000",
                "callee": call["number"], "status_code": status_code, "status_msg": message,
                "smart_status_code": "ANSWERED" if answered else "NO_ANSWER", "duration": str(duration),
                "originate_time": stamp, "ring_time": stamp, "start_time": stamp if answered else "",
                "end_time": stamp if answered else "", "hangup_direction": "用户" if answered else "机器",
                "dtmf": keys, "voice_type": "voice", "toll_type": "UNKNOWN"})

    def push_voice_reports(self, url: str, post: Poster) -> tuple[int, bytes]:
        """Push every pending VoiceReport as one batch; they stay pending unless answered {"code": 0}."""
        return self._push(url, post, self._voice_reports, lambda item: item)

    @property
    def pending_pushes(self) -> int:
        """How many VoiceReports still wait for an acknowledged push."""
        with self._lock:
            return len(self._voice_reports)


def _refuse(code: str, message: str = "") -> Response:
    return _json({"Code": code, "Message": message or code, "RequestId": _id()})
