"""The console softphone's phone line: virtual calls kept in Redis, their webhooks signed and posted in-process.

Each webhook goes through the app itself (its test client, in a fresh context) rather than over HTTP to
ourselves: a gunicorn worker busy with the softphone's own request may be the only one there is. The
requests are signed exactly as Twilio signs them, so the webhooks cannot tell the softphone from a phone.
A call's state lives in Redis under its CallSid for an hour, owned by the console user who placed it.
Who may play which number is the console's to check (hotline.console.softphone_access), before any call here.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from flask import Flask, current_app
from sqlalchemy import select, update

from dispatch.providers import script_of
from dispatch.providers.twilio import render_call
from hotline import db
from hotline.softphone import twilio_wire as wire
from hotline.softphone.virtual_call import CallOver, Transport, VirtualCall, WebhookFailed, new_call, outbound_call
from models import Case, Message, Officer, Resident, ResidentPhone, Technician
from models.phone import mask, try_normalise

log = logging.getLogger(__name__)
STATE_TTL_SECONDS = 3600
DIRECTORY_LIMIT = 50
INBOX_LIMIT = 30
LINES = ("elderly", "child")
# A phone rings once: an answered outbound call stays answered far longer than its call state lives.
ANSWERED_TTL_SECONDS = 30 * 24 * 3600
PLACED = ("sent", "local")   # outbox statuses of a call that rang (queued/sending/failed ones never did)
_SID = re.compile(r"CA[0-9a-f]{32}")

__all__ = ["CallOver", "WebhookFailed", "SoftphoneError", "parse_number", "for_real", "start_call", "answer_call",
           "drive_call", "send_sms", "inbox", "directory", "call_view"]


class SoftphoneError(ValueError):
    """Input the user can fix (a bad number, an unknown line); `key` names the console text, `status` the HTTP one."""

    def __init__(self, key: str, status: int = 400):
        super().__init__(key)
        self.key, self.status = key, status


def in_process(app: Flask) -> Transport:
    """Post signed webhooks straight into `app`, as Twilio would post them to PUBLIC_BASE_URL."""
    settings = app.extensions["hotline"].settings
    client = app.test_client()
    origin = urlsplit(settings.public_base_url)

    def post(path: str, params: dict) -> str:
        headers = wire.signed_headers(settings.twilio_auth_token, settings.public_base_url, path, params)
        # A fresh context: the webhook gets its own `g`, database session and teardown, not this request's.
        resp = contextvars.Context().run(client.post, path, data=params, headers=headers,
                                         base_url=f"{origin.scheme}://{origin.netloc}")
        if resp.status_code != 200:
            raise WebhookFailed(f"{path.split('?')[0]} answered {resp.status_code}")
        return resp.get_data(as_text=True)

    return post


def _redis():
    return db.queue().connection


def _key(sid: str) -> str:
    return f"hotline:softphone:call:{sid}"


def _release_database() -> None:
    # The webhooks write through their own sessions: this request must hold no snapshot or lock meanwhile.
    db.session().rollback()


def _account(settings) -> str:
    return settings.twilio_account_sid or wire.placeholder_account()


def parse_number(raw: str, key: str) -> str:
    """`raw` in E.164, or SoftphoneError(`key`) when it is not a phone number."""
    number = try_normalise((raw or "").strip()[:40])
    if number is None:
        raise SoftphoneError(key)
    return number


def for_real(settings) -> bool:
    """Whether the softphone drives a real Twilio account: what it does acts as the phone's owner, for real."""
    return settings.softphone == "on" and not settings.local_mode


def _announce(settings, message: str, *args) -> None:
    # With a real account a staff member is acting as someone else: say so loudly, every time.
    log.log(logging.WARNING if for_real(settings) else logging.INFO, message, *args)


def line_number(line: str) -> str:
    """The hotline number of a line (the number a caller dials, or an SMS is sent to)."""
    settings = db.settings()
    if line not in LINES:
        raise SoftphoneError("softphone.error_line")
    return settings.child_number if line == "child" else settings.elderly_number


def start_call(line: str, raw_caller: str, owner: str) -> tuple[dict, list[dict]]:
    """Place a call from `raw_caller` to a line; returns the call's state and what happened."""
    settings = db.settings()
    caller = parse_number(raw_caller, "softphone.error_caller")
    state = new_call(caller, line_number(line), _account(settings), line)
    state["owner"] = owner
    _release_database()
    _announce(settings, "softphone: console user %s calls the %s line as %s (call %s)", owner, line, mask(caller),
              state["sid"][-8:])
    events = VirtualCall(state, in_process(current_app._get_current_object())).start()
    _save(state)
    return state, events


def answer_call(message: Message, owner: str) -> tuple[dict, list[dict]]:
    """Pick up an outbound call the hotline placed (an outbox row): its own TwiML walked as Twilio plays it.

    Each call can be answered once in this softphone; the marker is claimed before any webhook is posted,
    so two clicks cannot both answer it. Privacy (whose call this user may answer) is the caller's to check.
    """
    settings = db.settings()
    if message.direction != "outbound" or message.channel != "call":
        raise SoftphoneError("softphone.error_not_call")
    if message.status not in PLACED:
        raise SoftphoneError("softphone.error_not_placed", 409)
    # The script played as Twilio would play it: rendered by the Twilio adapter, as the worker sends it.
    script = script_of(message.body)
    twiml = render_call(script, settings.public_base_url) if script.language or script.verbatim else ""
    try:
        ET.fromstring(twiml)
    except ET.ParseError:
        raise SoftphoneError("softphone.error_not_call") from None
    sid = message.provider_sid if _SID.fullmatch(message.provider_sid or "") else ""  # local rows carry LO…
    state = outbound_call(message.from_phone or settings.sender, message.to_phone, _account(settings), sid)
    state.update(owner=owner, message_id=message.id)
    if not _redis().set(_answered_key(message.id), state["sid"], nx=True, ex=ANSWERED_TTL_SECONDS):
        raise SoftphoneError("softphone.error_answered", 409)
    _release_database()
    _announce(settings, "softphone: console user %s answers call %s to %s", owner, message.id, mask(state["to"]))
    try:
        events = VirtualCall(state, in_process(current_app._get_current_object())).answer(twiml)
    except WebhookFailed:
        _redis().delete(_answered_key(message.id))  # nothing was played: the user may try again
        raise
    _save(state)
    return state, events


def _answered_key(message_id: int) -> str:
    return f"hotline:softphone:answered:{message_id}"


def drive_call(sid: str, owner: str, action: str, **args) -> tuple[dict, list[dict]]:
    """Do `action` (press, silence, dial_outcome, record, hangup) on the user's call (CallOver if it has none)."""
    if not _SID.fullmatch(sid or ""):
        raise CallOver("no such call")
    with _redis().lock(_key(sid) + ":lock", timeout=60, blocking_timeout=30):
        raw = _redis().get(_key(sid))
        state = json.loads(raw) if raw else None
        if state is None or state.get("owner") != owner:
            raise CallOver("no such call")
        _release_database()
        call = VirtualCall(state, in_process(current_app._get_current_object()))
        try:
            events = getattr(call, action)(**args)
        finally:
            _save(state)  # what the webhooks already did stays done, even if a later one failed
    return state, events


def _save(state: dict) -> None:
    _redis().set(_key(state["sid"]), json.dumps(state, ensure_ascii=False), ex=STATE_TTL_SECONDS)


def call_view(session, state: dict, events: list[dict]) -> dict:
    """What the browser shows: the call's state and its new events, officers' numbers masked and named."""
    names = _officer_names(session)
    wait = state.get("wait") or {}
    view = {"sid": state["sid"], "line": state["line"], "status": state["status"],
            "waiting": wait.get("verb"), "digits": wait.get("digits", ""),
            "num_digits": wait.get("num_digits", 0), "timeout": wait.get("timeout", 0),
            "max_length": wait.get("max_length", 0),
            "numbers": [_label(n["number"], names) for n in wait.get("numbers", [])]}
    shown = []
    for event in events:
        event = dict(event)
        if "number" in event:
            event["number"] = _label(event["number"], names)
        if "numbers" in event:
            event["numbers"] = [_label(n, names) for n in event["numbers"]]
        shown.append(event)
    return {"call": view, "events": shown}


def _officer_names(session) -> dict[str, str]:
    return dict(session.execute(select(Officer.phone, Officer.name)).all())


def _label(number: str, names: dict[str, str]) -> str:
    name = names.get(number)
    return f"{name} {mask(number)}" if name else mask(number)


def send_sms(raw_from: str, line: str, body: str, owner: str) -> tuple[list[str], Message | None]:
    """Text the hotline from `raw_from` as Twilio delivers it; returns the hotline's <Message> answers and the
    stored answer row (its order_id or case_id say what the SMS acted on). The SMS row names `owner` as sender."""
    settings = db.settings()
    sender = parse_number(raw_from, "softphone.error_sender")
    body = (body or "").strip()
    if not body or len(body) > 1600:
        raise SoftphoneError("softphone.error_body")
    sid = wire.new_sid("SM")
    params = wire.sms_params(sid, _account(settings), sender, line_number(line), body)
    _release_database()
    _announce(settings, "softphone: console user %s sends an SMS as %s to the %s line (%d chars)", owner,
              mask(sender), line, len(body))
    root = ET.fromstring(in_process(current_app._get_current_object())(wire.SMS_PATH, params))
    session = db.session()
    session.execute(update(Message).where(Message.key == f"in:{sid}").values(sent_by=owner[:64]))
    session.commit()
    answer = session.scalar(select(Message).where(Message.key == f"reply:{sid}"))
    return ["".join(m.itertext()).strip() for m in root.iter("Message")], answer


def inbox(session, number: str, cases: bool = True, orders: bool = True) -> list[tuple[Message, bool]]:
    """What the hotline sent to a number (SMS, answers and calls), newest first, each with whether this softphone
    answered it; a case's messages only when `cases`, an order's only when `orders` (the console's privacy split)."""
    query = select(Message).where(Message.to_phone == number, Message.direction == "outbound")
    if not cases:
        query = query.where(Message.case_id.is_(None))
    if not orders:
        query = query.where(Message.order_id.is_(None))
    rows = list(session.scalars(query.order_by(Message.created_at.desc(), Message.id.desc()).limit(INBOX_LIMIT)))
    calls = [m.id for m in rows if m.channel == "call"]
    answered = {i for i, sid in zip(calls, _redis().mget([_answered_key(i) for i in calls]) if calls else []) if sid}
    return [(m, m.id in answered) for m in rows]


def answerable(message: Message, answered: bool) -> bool:
    """Whether an inbox row is a call that rang and can still be picked up here."""
    return message.channel == "call" and message.status in PLACED and not answered


def directory(session, kinds=frozenset({"resident", "technician", "officer"})) -> dict[str, list[dict]]:
    """Numbers to pick from, of the `kinds` asked for: active residents' numbers (callers) and technicians' and
    officers' (texters). A number that also belongs to a kind not asked for is left out."""
    residents = technicians = officers = []
    if "resident" in kinds:
        residents = session.execute(
            select(Resident.name, ResidentPhone.phone).join(ResidentPhone).where(Resident.active.is_(True))
            .order_by(Resident.id, ResidentPhone.id).limit(DIRECTORY_LIMIT)).all()
    if "technician" in kinds:
        technicians = session.execute(select(Technician.name, Technician.phone).where(Technician.active.is_(True))
                                      .order_by(Technician.id).limit(DIRECTORY_LIMIT)).all()
    if "officer" in kinds:
        officers = session.execute(select(Officer.name, Officer.phone).where(Officer.active.is_(True))
                                   .order_by(Officer.id).limit(DIRECTORY_LIMIT)).all()
    others = _owned_outside(session, kinds, {p for _, p in [*residents, *technicians, *officers]})
    return {"residents": [{"name": n, "phone": p} for n, p in residents if p not in others],
            "staff": [{"name": n, "phone": p, "kind": "technician"} for n, p in technicians if p not in others]
            + [{"name": n, "phone": p, "kind": "officer"} for n, p in officers if p not in others]}


def _owned_outside(session, kinds, numbers: set[str]) -> set[str]:
    """Those of `numbers` that also belong to someone of a kind outside `kinds` (a child-line caller, say)."""
    owners = {"resident": ResidentPhone.phone, "technician": Technician.phone, "officer": Officer.phone,
              "case_caller": Case.caller}
    owned: set[str] = set()
    for kind, column in owners.items():
        if kind not in kinds and numbers:
            owned |= set(session.scalars(select(column).where(column.in_(list(numbers))).distinct()))
    return owned
