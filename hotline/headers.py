"""Security headers on every answer: a strict CSP, nosniff, same-origin referrers, no caching of personal
data, and HSTS when the hotline is served over https."""
from __future__ import annotations

from flask import Flask, Response, request

# The console's scripts, styles and charts are files or attributes of its own origin: nothing inline is
# allowed, nothing is loaded from elsewhere, and no other site may frame a page (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",      # the empty favicon is a data: URL
    "media-src 'self'",          # case recordings, played through the console
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
))
HSTS = "max-age=31536000"
ALWAYS = (("Content-Security-Policy", CONTENT_SECURITY_POLICY), ("X-Content-Type-Options", "nosniff"),
          ("Referrer-Policy", "same-origin"))
# Console pages and fetches show names, numbers and children's cases; the API serves the same data.
NO_STORE_PREFIXES = ("/console", "/api/")


def security_headers(response: Response, https: bool) -> Response:
    """Add the hotline's security headers to one answer (existing values are kept)."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # one pass over the answer's headers, not one per name
    for name, value in ALWAYS:
        if name.lower() not in present:
            headers.add(name, value)
    if request.path.startswith(NO_STORE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    if https and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", HSTS)
    return response


def register(app: Flask) -> None:
    """Send the security headers on every answer of `app`."""
    https = app.extensions["hotline"].settings.public_base_url.startswith("https://")
    app.after_request(lambda response: security_headers(response, https))
