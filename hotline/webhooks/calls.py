"""Shared pieces of the voice webhooks: the line a call is on, its log row, URLs Twilio will call, TwiML replies."""
from __future__ import annotations

import logging
import re

from flask import Response, request, url_for

from dispatch.providers.webhook_urls import webhook_url
from hotline import db
from hotline.params import small_int as small_int  # re-exported: the webhooks import it from here
from hotline.softphone import twilio_wire as wire
from ivr_flows import twiml as tw
from models import CallLog, call_by_sid, log_call, resident_by_phone, utcnow
from models.phone import mask, try_normalise

log = logging.getLogger(__name__)
_RECORDING_SID = re.compile(r"RE[0-9a-f]{32}")


def settings():
    """The app's settings (hotline.db.settings, the one accessor)."""
    return db.settings()


def language() -> str:
    """The IVR language."""
    return settings().ivr_language


def public_url(endpoint: str, **params) -> str:
    """An absolute URL Twilio can call back (PUBLIC_BASE_URL + route + a query ending with `end=1`)."""
    return webhook_url(settings().public_base_url, url_for(endpoint), params)


def own_recording_url(raw: str | None) -> str | None:
    """`raw` if it names one of this account's recordings, else None (and a log line without the URL).

    Twilio posts `{TWILIO_API_BASE_URL}/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Recordings/RE…`; local mode has
    no account, and its virtual Twilio (virtual_call) posts Twilio's address with the placeholder account.
    """
    if not raw:
        return None
    s = settings()
    if s.twilio_account_sid:
        prefix = wire.recordings_prefix(s.twilio_api_base_url, s.twilio_account_sid)
    else:
        prefix = wire.recordings_prefix(wire.TWILIO_API, wire.placeholder_account())
    if raw.startswith(prefix) and _RECORDING_SID.fullmatch(raw[len(prefix):]):
        return raw
    log.warning("call %s: RecordingUrl is not one of this account's recordings: ignored",
                request.form.get("CallSid", "")[-8:])
    return None


def twiml(response) -> Response:
    """A TwiML document (a builder's tree or its text) as Twilio expects it."""
    return Response(response if isinstance(response, str) else tw.document(response), mimetype="text/xml")


def dialled_number(to_raw: str | None) -> str:
    """The number the caller dialled in E.164, else "" (Twilio sends ours in E.164 already: no parsing then)."""
    if to_raw and to_raw in (settings().elderly_number, settings().child_number):
        return to_raw
    return (try_normalise(to_raw) or "")[:32]


def line_for(to_raw: str | None) -> str:
    """The dialled number picks the line; an unknown number is served as the elderly line."""
    to = dialled_number(to_raw) or (to_raw or "")
    if to == settings().child_number:
        return "child"
    if to != settings().elderly_number:
        log.warning("call to unconfigured number %s served as the elderly line", mask(to))
    return "elderly"


def caller_number() -> str:
    """The caller's number in E.164 when it is one, else what the carrier sent (e.g. anonymous)."""
    raw = request.form.get("From", "")
    return try_normalise(raw) or raw[:32]


def open_call_log(session) -> CallLog:
    """This call's log row, created (and committed) at its first webhook; retries find the same row.

    The elderly IVR's plain walk logs its calls in call_store; this is for every other way a call reaches us
    (the child line, a status callback or a key whose greeting never arrived).
    """
    sid = request.form.get("CallSid", "")[:64] or "unknown"
    row = call_by_sid(session, sid)
    if row is not None:
        return row
    caller = caller_number()
    resident = resident_by_phone(session, caller)
    row, inserted = log_call(
        session, call_sid=sid, from_phone=caller, to_phone=dialled_number(request.form.get("To")),
        line=line_for(request.form.get("To")), resident_id=resident.id if resident else None,
        status=request.form.get("CallStatus", "ringing")[:20], outcome="in-progress", path="", started_at=utcnow())
    session.commit()
    if inserted:
        log.info("call %s from %s on the %s line (%s caller)", sid[-8:], mask(caller), row.line,
                 "known" if resident else "unknown")
    return row


def current_call_log() -> CallLog:
    """This call's log row (created if the first webhook was somehow missed)."""
    return open_call_log(db.session())
