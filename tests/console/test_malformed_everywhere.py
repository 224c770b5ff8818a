"""Every console and API route, as every role, with malformed values in its path, query and form: a 4xx or a
normal answer, never a 5xx (the routes are read from the app, so a new one is covered the day it is added)."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.conftest import API_TOKEN
from tests.console.conftest import Staff

WEIRD = ["²", "-1", "99999999999999999999999", "1e9", "٣", "\x00", "a\r\nb", "x" * 3000]
QUERY_NAMES = ("limit", "page", "edit", "week", "from", "to", "status", "q", "actor", "case", "line", "kind",
               "number", "lang", "day", "category", "next")
FORM_NAMES = ("username", "password", "kind", "phone", "category", "detail", "technician", "technician_id",
              "reason", "note", "name", "role", "officer", "officer_phone", "line", "tier", "starts_at", "ends_at",
              "active", "from", "body", "caller", "keys", "outcome", "index", "message_id", "current", "new",
              "confirm", "lat", "lng", "skills", "community", "address", "birth_date", "categories", "code")


@pytest.fixture
def clients(app, demo):
    """A client per role, and one signed out."""
    staff = Staff(app)
    found = {role: staff.login(role) for role in ("dispatcher", "duty_officer", "admin")}
    found["anonymous"] = app.test_client()
    return found


def _rules(app, method: str):
    return [r for r in app.url_map.iter_rules() if method in r.methods and r.rule.startswith(("/console", "/api"))
            and r.endpoint != "static"]


def _path(rule, value: str) -> str:
    return re.sub(r"<[^>]+>", quote(value, safe="") or "x", rule.rule)


def test_no_get_route_answers_5xx_to_malformed_values(app, clients):
    bad = []
    for rule in _rules(app, "GET"):
        for value in WEIRD:
            url = _path(rule, value) + "?" + "&".join(f"{name}={quote(value, safe='')}" for name in QUERY_NAMES)
            for role, client in clients.items():
                resp = client.get(url, headers={"Authorization": f"Bearer {API_TOKEN}"})
                if resp.status_code >= 500:
                    bad.append((role, rule.rule, value[:12], resp.status_code))
    assert bad == []


def test_no_post_route_answers_5xx_to_malformed_values(app, clients):
    bad = []
    for rule in _rules(app, "POST"):
        if rule.endpoint == "console.logout":
            continue  # would sign the client out for the rest of the test
        for value, path_value in zip(WEIRD, ["1", "99999999999999999999999"] * len(WEIRD)):
            for role, client in clients.items():
                data = {name: value for name in FORM_NAMES}
                data["csrf_token"] = getattr(client, "csrf", "")
                resp = client.post(_path(rule, path_value), data=data)
                if resp.status_code >= 500:
                    bad.append((role, rule.rule, value[:12], resp.status_code))
    assert bad == []
