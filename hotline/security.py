"""Webhook signatures (X-Twilio-Signature) and the API bearer token. There is no switch to turn either off."""
from __future__ import annotations

import hmac
import logging
from functools import wraps

from flask import Response, abort, current_app, request
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from dispatch.webhook_urls import query_terminated

log = logging.getLogger(__name__)
# Twilio's webhooks are a few dozen fields and a few KB; an SMS of 1600 Chinese characters percent-encodes
# to about 14 KB. Anything far larger is refused before a byte of it is parsed or a signature computed.
MAX_WEBHOOK_BYTES = 32 * 1024
MAX_WEBHOOK_QUERY = 2 * 1024
MAX_WEBHOOK_FIELDS = 100
WEBHOOK_PREFIX = "/twilio/"


def _too_large() -> Response:
    return Response("too large\n", status=413, mimetype="text/plain", headers={"Connection": "close"})


def webhook_limits() -> Response | None:
    """Before any work on a request under /twilio/: 413 for a query, body or field count no webhook has.

    Runs before the form is parsed or the signature computed, so an unsigned flood costs a header read
    (an oversized body is never read) or one read of at most MAX_WEBHOOK_BYTES; the body is cached and
    werkzeug parses the form from those bytes afterwards. No Content-Length (a chunked body): refused too.
    """
    if not request.path.startswith(WEBHOOK_PREFIX):
        return None
    if len(request.query_string) > MAX_WEBHOOK_QUERY:
        return _too_large()
    if request.method != "POST":
        return None  # no route under /twilio/ takes another method: 405 without reading a body
    length = request.content_length
    if "Transfer-Encoding" in request.headers or length is None or length > MAX_WEBHOOK_BYTES:
        return _too_large()
    if request.get_data(cache=True).count(b"&") >= MAX_WEBHOOK_FIELDS:
        return _too_large()
    return None


def public_request_url() -> str:
    """The URL Twilio requested: the configured public base URL plus path and query (proxies rewrite the rest)."""
    base = current_app.config["HOTLINE"].public_base_url.rstrip("/")
    query = request.query_string.decode("latin-1")
    return base + request.path + (f"?{query}" if query else "")


def _shifted() -> bool:
    """Whether part of a signed URL may have been moved across the URL/fields seam of the signed string.

    Our URLs' queries end with `end=1` (dispatch.webhook_urls): one that does not was not ours, or lost its
    last characters to the first field's name. A cut before the query or inside the path leaves a `?` or
    `/` in a field name, which no Twilio parameter has.
    """
    if not query_terminated(request.query_string.decode("latin-1")):
        return True
    return any("?" in name or "/" in name for name in request.form)


def signature_valid() -> bool:
    """Whether this request carries Twilio's signature over its public URL and form parameters."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or _shifted():
        return False
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = RequestValidator(current_app.config["HOTLINE"].twilio_auth_token)
    return validator.validate(public_request_url(), request.form, signature, algorithm=algorithm)


def _without_nul(params: MultiDict) -> ImmutableMultiDict:
    return ImmutableMultiDict([(k.replace("\x00", "\ufffd"), v.replace("\x00", "\ufffd"))
                               for k, v in params.items(multi=True)])


def scrub_nul() -> None:
    """Replace NUL characters in the form and query with U+FFFD, once the signature over them is checked.

    PostgreSQL refuses NUL in text: one NUL in a CallSid or an SMS body would otherwise fail every query
    of the request, be taken for a database outage (fallback TwiML) and be spooled for a replay that fails
    the same way. Twilio never sends NUL; if it ever does, the value stays distinct rather than shortened.
    """
    if any("\x00" in k or "\x00" in v for k, v in request.form.items(multi=True)):
        request.form = _without_nul(request.form)  # werkzeug's cached_property: this request only
    if any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        request.args = _without_nul(request.args)


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


def api_token_required(view):
    """The JSON API: `Authorization: Bearer $HOTLINE_API_TOKEN`, else 401 (and always 401 when unset)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = current_app.config["HOTLINE"].api_token
        given = request.headers.get("Authorization", "")
        if not token or not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].strip(), token):
            return {"error": "unauthorized"}, 401, {"WWW-Authenticate": 'Bearer realm="hotline"'}
        return view(*args, **kwargs)

    return wrapper
