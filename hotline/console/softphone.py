"""The browser softphone: call a line and press keys, or text the hotline as a technician or officer.

The page and its JSON endpoints; the phone line itself (signed in-process webhooks, call state in Redis)
is hotline.softphone.calls. Only when settings.softphone_enabled (local mode, or SOFTPHONE=on).

The softphone is no way around the role split: a user plays only the numbers and lines of their role
(softphone_access), sees only the messages the Messages page would show them, masked the same way, and every
case datum it returns is access-logged as the case pages log it (action "softphone").
"""
from __future__ import annotations

import logging
import re
from functools import wraps

from flask import Blueprint, render_template, request

from hotline import db
from hotline.console import softphone_access as access
from hotline.console.auth import can, current_user, roles_required
from hotline.console.casework import log_access
from hotline.console.i18n import catalogue, current_language, translate
from hotline.console.message_text import mask_numbers
from hotline.console.outbox import shown_text
from hotline.params import small_int
from hotline.softphone import calls as phone
from hotline.softphone.virtual_call import CallOver, WebhookFailed
from models import Case, Message

log = logging.getLogger(__name__)
bp = Blueprint("softphone", __name__, url_prefix="/console/softphone")
ROLES = ("dispatcher", "duty_officer")
KEYS = re.compile(r"[0-9*#]{1,40}")
DIAL_OUTCOMES = ("answered", "voicemail", "no-answer", "busy")
# The inbox is polled every few seconds: a case shown again within this long is not logged again.
INBOX_LOG_SECONDS = 600


def _settings():
    return db.settings()


def _enabled() -> bool:
    return _settings().softphone_enabled


def _error(key: str, status: int, **values):
    return {"error": translate(key, **values)}, status


def json_endpoint(view):
    """A JSON endpoint of the page: 403 for a visitor without a console role, 404 while the softphone is off."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None or not can(*ROLES):
            return _error("base.forbidden", 403)
        if not _enabled():
            return _error("softphone.error_off", 404)
        try:
            return view(*args, **kwargs)
        except phone.SoftphoneError as exc:
            return _error(exc.key, exc.status)
        except CallOver:
            return _error("softphone.error_no_call", 409)
        except WebhookFailed as exc:
            log.error("softphone: %s", exc)
            return _error("softphone.error_webhook", 502, detail=str(exc))

    return wrapper


def _texts() -> dict[str, str]:
    """The page's texts for its script, in the request's language."""
    names = [key for key in catalogue("zh-CN") if key.startswith("softphone.")]
    return {key.split(".", 1)[1]: translate(key) for key in names}


@bp.get("/")
@roles_required(*ROLES)
def index():
    """The softphone, or why it is off and how to turn it on."""
    if not _enabled():
        return render_template("console/softphone/disabled.html")
    people = phone.directory(db.session(), access.playable_kinds())
    return render_template("console/softphone/index.html", people=people, lines=access.lines(),
                           for_real=phone.for_real(_settings()), texts=_texts(), speech_lang=current_language())


def _user() -> str:
    return current_user().username


def _answer(state: dict, events: list[dict]):
    view = phone.call_view(db.session(), state, events)
    for event in view["events"]:  # a prompt may read out a number ("来电号码 1 3 9 …"): masked as in Messages
        if "text" in event:
            event["text"] = mask_numbers(event["text"])
    return view


def _playable(raw: str, key: str) -> str:
    """The number in E.164, if the current user may play it (403 otherwise)."""
    number = phone.parse_number(raw, key)
    access.check_number(db.session(), number)
    return number


def _log_cases(case_ids, action: str = "softphone") -> None:
    cases = [case for case in (db.session().get(Case, i) for i in dict.fromkeys(case_ids)) if case is not None]
    if cases:
        log_access(cases, action)
        db.session().commit()


@bp.post("/call")
@json_endpoint
def call_start():
    """Dial a line from a number: the call's first webhook and every prompt up to the first wait."""
    line = request.form.get("line", "")
    access.check_line(line)
    caller = _playable(request.form.get("caller", ""), "softphone.error_caller")
    return _answer(*phone.start_call(line, caller, _user()))


def _privacy() -> dict[str, bool]:
    """Which messages this user may see and answer, as the outbox splits them: a case's for duty officers,
    an order's for dispatchers (admins both)."""
    return {"cases": can("duty_officer"), "orders": can("dispatcher")}


@bp.post("/call/answer")
@json_endpoint
def call_answer():
    """Answer a call the hotline placed (an inbox item): its TwiML played as Twilio plays it, once per call."""
    message_id = small_int(request.form.get("message_id", "").strip())
    if message_id is None:
        return _error("softphone.error_message_id", 400)
    message = db.session().get(Message, message_id)
    if message is None or message.direction != "outbound":
        return _error("softphone.error_no_message", 404, id=message_id)
    privacy = _privacy()
    if ((message.case_id is not None and not privacy["cases"])
            or (message.order_id is not None and not privacy["orders"])):
        return _error("softphone.error_not_yours", 403)
    access.check_number(db.session(), message.to_phone)  # answering acts as the called person
    case_id = message.case_id
    view = _answer(*phone.answer_call(message, _user()))
    _log_cases([case_id] if case_id is not None else [])  # the call reads the case out
    return view


@bp.post("/call/<sid>/keys")
@json_endpoint
def call_keys(sid: str):
    """Press one or more keys."""
    keys = request.form.get("keys", "")
    if not KEYS.fullmatch(keys):
        return _error("softphone.error_keys", 400)
    return _answer(*phone.drive_call(sid, _user(), "press", keys=keys))


@bp.post("/call/<sid>/silence")
@json_endpoint
def call_silence(sid: str):
    """Press nothing until the Gather or Record times out."""
    return _answer(*phone.drive_call(sid, _user(), "silence"))


@bp.post("/call/<sid>/dial")
@json_endpoint
def call_dial(sid: str):
    """How the ringing ends: an officer answers (screening, 1), a mailbox answers, nobody answers, busy."""
    outcome = request.form.get("outcome", "")
    if outcome not in DIAL_OUTCOMES:
        return _error("softphone.error_outcome", 400)
    index = request.form.get("index", "0")
    index = int(index) if index.isascii() and index.isdigit() and len(index) < 3 else 0
    return _answer(*phone.drive_call(sid, _user(), "dial_outcome", outcome=outcome, index=index))


@bp.post("/call/<sid>/record")
@json_endpoint
def call_record(sid: str):
    """Leave a message at the beep."""
    return _answer(*phone.drive_call(sid, _user(), "record"))


@bp.post("/call/<sid>/hangup")
@json_endpoint
def call_hangup(sid: str):
    """Hang up (the status callback says the call completed)."""
    return _answer(*phone.drive_call(sid, _user(), "hangup"))


@bp.post("/sms")
@json_endpoint
def sms_send():
    """Text a line from a number; returns the hotline's answers, masked as the Messages page masks them."""
    line = request.form.get("line", "elderly")
    access.check_line(line)
    sender = _playable(request.form.get("from", ""), "softphone.error_sender")
    replies, answer = phone.send_sms(sender, line, request.form.get("body", ""), _user())
    if answer is not None and answer.case_id is not None:
        _log_cases([answer.case_id])  # e.g. an ACK's confirmation: the case's code and its caller
    return {"replies": [mask_numbers(text) for text in replies]}


@bp.get("/inbox")
@json_endpoint
def sms_inbox():
    """What the hotline sent to a number, newest first: the user's side of the privacy split only, masked."""
    number = _playable(request.args.get("number", ""), "softphone.error_sender")
    rows = phone.inbox(db.session(), number, **_privacy())
    _log_cases(_newly_read([m.case_id for m, _ in rows if m.case_id is not None]))
    return {"messages": [{"id": m.id, "channel": m.channel, "status": m.status, "at": m.created_at.isoformat(),
                          "text": shown_text(m), "answered": answered,
                          "answerable": phone.answerable(m, answered)} for m, answered in rows]}


def _newly_read(case_ids: list[int]) -> list[int]:
    """Of these cases, those this user has not been shown in the softphone's inbox in INBOX_LOG_SECONDS."""
    redis = db.state().queue.connection
    user = _user()
    return [i for i in dict.fromkeys(case_ids)
            if redis.set(f"hotline:softphone:case-read:{user}:{i}", 1, nx=True, ex=INBOX_LOG_SECONDS)]
