"""The Twilio adapter of the receiving side: webhook signatures, and Twilio's forms read as neutral events.

Every Twilio webhook passes `twilio_signed` (X-Twilio-Signature over the public URL and the form); the SMS
webhook and the key-press webhooks then read `inbound_sms()` / `key_press()`, never Twilio's field names.
The IVR itself (menus, dialling, recording) stays on Twilio's webhooks and TwiML (ivr_flows.twiml).
"""
from __future__ import annotations

import hmac
import logging
from functools import wraps
from urllib.parse import urlparse

from flask import Response, abort, request
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    add_port,
    get_signature_algorithm,
    remove_port,
)
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from dispatch.providers import InboundSms, KeyPress
from dispatch.providers.webhook_urls import query_terminated
from hotline import db

log = logging.getLogger(__name__)


def public_request_url() -> str:
    """The URL Twilio requested: the configured public base URL plus path and query (proxies rewrite the rest)."""
    base = db.settings().public_base_url.rstrip("/")
    query = request.query_string.decode("latin-1")
    return base + request.path + (f"?{query}" if query else "")


def _shifted() -> bool:
    """Whether part of a signed URL may have been moved across the URL/fields seam of the signed string.

    Our URLs' queries end with `end=1` (dispatch.providers.webhook_urls): one that does not was not ours, or lost its
    last characters to the first field's name. A cut before the query or inside the path leaves a `?` or
    `/` in a field name, which no Twilio parameter has.
    """
    if not query_terminated(request.query_string.decode("latin-1")):
        return True
    return any("?" in name or "/" in name for name in request.form)


class _FormValues:
    """The form as RequestValidator reads it: werkzeug's MultiDict has `getlist`, not the `getall` the validator
    tries first, so each field would otherwise cost it a raised AttributeError."""

    def __init__(self, form: MultiDict):
        self._form = form

    def __iter__(self):
        return iter(self._form)

    def __len__(self) -> int:
        return len(self._form)

    def getall(self, name: str) -> list[str]:
        """Every value of the field `name`."""
        return self._form.getlist(name)


def _signed_urls(url: str) -> tuple[str, str]:
    """The two spellings of `url` RequestValidator.validate accepts a signature over (Twilio signs with or
    without the port), the one `url` itself is written in first."""
    parsed = urlparse(url)
    with_port, without_port = add_port(parsed), remove_port(parsed)
    return (with_port, without_port) if parsed.port else (without_port, with_port)


def signature_valid() -> bool:
    """Whether this request carries Twilio's signature over its public URL and form parameters.

    Accepts exactly what RequestValidator.validate(url, form, signature, algorithm) accepts (a form, so no
    bodySHA256), but stops at the first spelling of the URL that matches: a genuine request costs one HMAC,
    not validate()'s two."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or _shifted():
        return False
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = RequestValidator(db.settings().twilio_auth_token)
    form, given = _FormValues(request.form), signature.encode()
    try:
        return any(hmac.compare_digest(validator.compute_signature(url, form, algorithm).encode(), given)
                   for url in _signed_urls(public_request_url()))
    except ValueError:  # an algorithm this twilio library does not know: validate() refuses it too
        log.warning("webhook signed with an unsupported algorithm %r: refused", algorithm[:40])
        return False


def _without_nul(params: MultiDict) -> ImmutableMultiDict:
    return ImmutableMultiDict([(k.replace("\x00", "\ufffd"), v.replace("\x00", "\ufffd"))
                               for k, v in params.items(multi=True)])


def scrub_nul() -> None:
    """Replace NUL characters in the form and query with U+FFFD, once the signature over them is checked.

    PostgreSQL refuses NUL in text: one NUL in a CallSid or an SMS body would otherwise fail every query
    of the request, be taken for a database outage (fallback TwiML) and be spooled for a replay that fails
    the same way. Twilio never sends NUL; if it ever does, the value stays distinct rather than shortened.
    """
    body = request.get_data(cache=True)  # b"" if the form was parsed before the body was kept: search it then
    if (_may_hold_nul(body) or not body) and any(
            "\x00" in k or "\x00" in v for k, v in request.form.items(multi=True)):
        request.form = _without_nul(request.form)  # werkzeug's cached_property: this request only
    if _may_hold_nul(request.query_string) and any(
            "\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        request.args = _without_nul(request.args)


def _may_hold_nul(raw: bytes) -> bool:
    """Whether a raw query or body can decode to a NUL: it holds one or its percent-encoding. One that cannot is
    not searched field by field (webhook_limits keeps the body of every request under /twilio/ before its form is
    parsed)."""
    return b"\x00" in raw or b"%00" in raw


def twilio_signed(view):
    """Refuse (403) any webhook request not signed by Twilio with our token; nothing runs before the check."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not signature_valid():
            log.warning("refused unsigned or forged webhook to %s", request.path)
            abort(403)
        scrub_nul()
        return view(*args, **kwargs)

    return wrapper


def inbound_sms() -> InboundSms:
    """The SMS of Twilio's "a message comes in" webhook (a signed request)."""
    form = request.form
    return InboundSms(sid=form.get("MessageSid", "")[:64] or None, from_=form.get("From", ""),
                      to=form.get("To", ""), text=form.get("Body", ""))


def key_press() -> KeyPress:
    """The keys of a Gather's action (None when the caller pressed nothing) and the call they were pressed on."""
    form = request.form
    return KeyPress(call_sid=form.get("CallSid", "")[:64], digits=form.get("Digits"),
                    parent_call_sid=form.get("ParentCallSid", ""))


def sms_answer(text: str | None) -> Response:
    """The webhook's answer to an SMS: one message back, or none (TwiML)."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), mimetype="text/xml")
