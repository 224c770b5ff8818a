"""Webhook size limits and the API bearer token; Twilio's signature check is in twilio_inbound.py.

There is no switch to turn either check off.
"""
from __future__ import annotations

import hmac
from functools import wraps

from flask import Response, request

from hotline import db

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


def api_token_required(view):
    """The JSON API: `Authorization: Bearer $HOTLINE_API_TOKEN`, else 401 (and always 401 when unset)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = db.settings().api_token
        given = request.headers.get("Authorization", "")
        if not token or not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].strip(), token):
            return {"error": "unauthorized"}, 401, {"WWW-Authenticate": 'Bearer realm="hotline"'}
        return view(*args, **kwargs)

    return wrapper
