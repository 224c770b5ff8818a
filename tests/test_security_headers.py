"""Security headers: a strict CSP, nosniff and same-origin referrers everywhere; no-store on personal data;
HSTS only over https. The templates and scripts carry nothing inline that the CSP would block."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.factory import create_app
from tests import people
from tests.conftest import API_TOKEN, ELDERLY_NUMBER
from tests.console.conftest import Staff

HOTLINE = Path(__file__).resolve().parents[1] / "hotline"
DIRECTIVES = ("default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
              "media-src 'self'", "connect-src 'self'", "form-action 'self'", "base-uri 'none'",
              "object-src 'none'", "frame-ancestors 'none'")


@pytest.fixture
def staff(app) -> Staff:
    return Staff(app)


def directives(resp) -> set[str]:
    return {part.strip() for part in resp.headers.get("Content-Security-Policy", "").split(";")}


def test_a_console_page_has_a_strict_content_security_policy(client):
    assert directives(client.get("/console/login")) == set(DIRECTIVES)


def test_the_policy_allows_no_inline_script_or_style(client):
    policy = client.get("/console/login").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_a_console_page_is_not_stored_by_caches(staff):
    assert staff.login("dispatcher").get("/console/orders/").headers["Cache-Control"] == "no-store"


def test_a_console_fetch_is_not_stored_by_caches(staff):
    assert staff.login("dispatcher").get("/console/orders/rows").headers["Cache-Control"] == "no-store"


def test_an_api_answer_is_not_stored_by_caches(client, db):
    resp = client.get("/api/orders", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"


def test_a_static_file_may_be_cached(client):
    resp = client.get("/static/console/console.js")
    assert resp.status_code == 200 and "no-store" not in resp.headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", ("/console/login", "/static/console/console.js", "/healthz"))
def test_every_answer_has_nosniff_and_a_same_origin_referrer_policy(client, path):
    resp = client.get(path)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"


def test_a_twilio_webhook_answer_has_nosniff(tw, db):
    people.resident(db)
    resp = tw.new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER).post("/twilio/voice")
    assert resp.status_code == 200 and resp.headers["X-Content-Type-Options"] == "nosniff"


def test_an_error_page_has_the_headers_too(client):
    resp = client.get("/console/orders/1")  # not logged in: a redirect to the login form
    assert "frame-ancestors 'none'" in directives(resp) and resp.headers["Cache-Control"] == "no-store"


def test_https_gets_strict_transport_security(client):
    # The test settings' PUBLIC_BASE_URL is https.
    assert client.get("/console/login").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_http_gets_no_strict_transport_security(settings):
    app = create_app(settings.with_overrides(public_base_url="http://hotline.test"))
    try:
        assert "Strict-Transport-Security" not in app.test_client().get("/console/login").headers
    finally:
        app.extensions["hotline"].dispose()


INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "style block": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}
SOURCES = sorted([*HOTLINE.glob("templates/**/*.html"), *HOTLINE.glob("static/**/*.js"),
                  HOTLINE / "reports" / "charts.py"])


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(HOTLINE)))
def test_no_template_script_or_chart_has_what_the_policy_blocks(source):
    text = source.read_text(encoding="utf-8")
    found = [name for name, pattern in INLINE.items() if pattern.search(text)]
    assert not found, found
