"""Call scripts, each walking the app's TwiML as Twilio would: the elderly menu, emergencies, a person, the
child line (message left, hung up while ringing, answered by an officer)."""
from __future__ import annotations

import re
import secrets

from .client import Answer, Call
from .driver import CallRecord, Driver

CODE_RE = re.compile(r"服务单号是([\d ]+)。")
FINAL = "completed"


def heard_code(answer: Answer) -> str | None:
    found = CODE_RE.search(answer.says())
    return found.group(1).replace(" ", "") if found else None


def _step(d: Driver, rec: CallRecord, call: Call, path: str | None, **extra) -> Answer | None:
    if path is None:
        rec.statuses.append(-1)
        return None
    answer = call.post(path, **extra)
    rec.statuses.append(answer.status)
    d.maybe_replay(answer)
    return answer


def _end(d: Driver, rec: CallRecord, call: Call, stale: bool = True) -> None:
    """The final status callback; sometimes a stale one afterwards (out of order: must change nothing)."""
    answer = d.hooks.post("/twilio/voice/status", call.status_params(FINAL, CallDuration="42"))
    rec.statuses.append(answer.status)
    d.maybe_replay(answer)
    if stale and d.rng.random() < 0.1:
        late = call.params(CallStatus="in-progress", CallbackSource="call-progress-events", SequenceNumber="0")
        rec.statuses.append(d.hooks.post("/twilio/voice/status", late).status)
    rec.finished = True


def elderly(d: Driver, from_: str, kind: str = "elderly", burst: int = 0) -> None:
    """Known (or unknown) caller: category 2 or 1, confirm with 1, hear the order code, hang up."""
    call = Call(d.hooks, from_, d.numbers["elderly"])
    rec = d.record(CallRecord(call.sid, kind, from_, expect_order=True, expect_alert=kind == "unknown"))
    first = _step(d, rec, call, "/twilio/voice")
    menu = _step(d, rec, call, first and call.next_of(first), Digits=d.rng.choice("2221"))
    confirm_path = menu and call.next_of(menu)
    if burst and confirm_path:
        done = d.burst(call, confirm_path, burst, Digits="1")
        rec.statuses.append(done.status)
    else:
        done = _step(d, rec, call, confirm_path, Digits="1")
    code = done and heard_code(done)
    if code:
        rec.codes.add(code)
    if kind == "unknown" and done is not None:  # told to hold for a person, hangs up while it rings
        call.status_value = FINAL
        _step(d, rec, call, call.next_of(done), DialCallStatus="no-answer")
    _end(d, rec, call)


def emergency(d: Driver, from_: str) -> None:
    """5: an emergency order at once, then officers ring; the caller hangs up before anyone answers."""
    call = Call(d.hooks, from_, d.numbers["elderly"])
    rec = d.record(CallRecord(call.sid, "emergency", from_, expect_order=True, expect_alert=True))
    first = _step(d, rec, call, "/twilio/voice")
    dial = _step(d, rec, call, first and call.next_of(first), Digits="5")
    call.status_value = FINAL
    _step(d, rec, call, dial and call.next_of(dial), DialCallStatus="no-answer")
    _end(d, rec, call)


def _ring_out(d: Driver, rec: CallRecord, call: Call, answer: Answer | None) -> Answer | None:
    """Nobody in any tier presses 1: Dial after Dial until the app asks for a message."""
    for _ in range(6):
        if answer is None or answer.root() is None or answer.root().find("Dial") is None:
            return answer
        answer = _step(d, rec, call, call.next_of(answer), DialCallStatus="no-answer", DialCallDuration="0")
    return answer


def _leave_message(d: Driver, rec: CallRecord, call: Call, record: Answer | None) -> None:
    recording = f"https://api.twilio.com/2010-04-01/Accounts/{d.hooks.account_sid}/Recordings/RE{secrets.token_hex(16)}"
    _step(d, rec, call, record and call.next_of(record), RecordingUrl=recording, RecordingDuration="17",
          RecordingSid="RE" + secrets.token_hex(16), Digits="hangup")


def person(d: Driver, from_: str) -> None:
    """0: to a person; nobody answers in any tier; the caller leaves a message (officers get a call-back SMS)."""
    call = Call(d.hooks, from_, d.numbers["elderly"])
    rec = d.record(CallRecord(call.sid, "person", from_, expect_alert=True))
    first = _step(d, rec, call, "/twilio/voice")
    dial = _step(d, rec, call, first and call.next_of(first), Digits="0")
    _leave_message(d, rec, call, _ring_out(d, rec, call, dial))
    _end(d, rec, call)


def child(d: Driver, from_: str, how: str) -> None:
    """The child line: `message` (nobody answers, a message), `missed` (hangs up while ringing), `answered`."""
    call = Call(d.hooks, from_, d.numbers["child"])
    rec = d.record(CallRecord(call.sid, f"child-{how}", from_, expect_alert=how in ("message", "missed")))
    dial = _step(d, rec, call, "/twilio/voice")
    if how == "message":
        _leave_message(d, rec, call, _ring_out(d, rec, call, dial))
    elif how == "missed":
        if d.rng.random() < 0.5:  # Twilio requests the Dial action when the caller hangs up mid-ring
            call.status_value = FINAL
            _step(d, rec, call, dial and call.next_of(dial), DialCallStatus="no-answer")
    elif dial is not None and dial.root() is not None:
        number = dial.root().find("Dial/Number")
        leg = Call(d.hooks, from_, number.text.strip())
        leg.status_value = "in-progress"
        leg_params = {"ParentCallSid": call.sid, "Direction": "outbound-dial"}
        screen = leg.post(number.get("url"), **leg_params)
        rec.statuses.append(screen.status)
        pressed = leg.post(screen.next_path(leg.last_path) or "/twilio/voice/screen/answer", Digits="1",
                           **leg_params)
        rec.statuses.append(pressed.status)
        d.maybe_replay(pressed)
        _step(d, rec, call, call.next_of(dial), DialCallStatus="completed", DialCallDuration="60")
    _end(d, rec, call)


def plan(d: Driver, calls: int) -> list:
    """The mix of `calls` calls as (function, args): mostly elderly orders, then the child line."""
    residents, unknown = d.phones["residents"], d.phones["unknown"]
    mix = []
    bursts = max(2, calls // 60)
    for i in range(calls):
        r = d.rng.random()
        if i < bursts:
            mix.append((elderly, d.rng.choice(residents), "elderly", 20))
        elif r < 0.58:
            mix.append((elderly, d.rng.choice(residents)))
        elif r < 0.64:
            mix.append((elderly, d.rng.choice(unknown), "unknown"))
        elif r < 0.72:
            mix.append((emergency, d.rng.choice(residents)))
        elif r < 0.76:
            mix.append((person, d.rng.choice(residents)))
        else:
            how = d.rng.choice(["message", "message", "missed", "missed", "answered"])
            mix.append((child, d.rng.choice(unknown + residents), how))
    d.rng.shuffle(mix)
    return [(fn, (d, *args)) for fn, *args in mix]
