"""The role split on every console route, read from the app's URL map: a route missing from ROLES fails, a role
outside a route's roles gets 403 and changes nothing, a visitor is sent to sign in (401 for fetches)."""
from __future__ import annotations

import re

import pytest

from tests.console.conftest import Staff

ALL = ("dispatcher", "duty_officer")  # and admin, who may use every route
# Blueprint -> the roles besides admin that may use its routes; the people pages by the registry they show.
ROLES = {"board": ("dispatcher",), "rota": ("duty_officer",), "casework": ("duty_officer",),
         "case_tasks": ("duty_officer",), "workers": ("duty_officer",), "intake": ("duty_officer",),
         "imports": ALL,
         "outbox": ALL, "reports": ALL, "softphone": ALL, "account": ALL, "audit": (), "users": ()}
ROLES["case_reports"] = ("duty_officer",)  # the child-line casework report: case data
ROLES["case_export"] = ("duty_officer",)  # the case export: case data, without identities
ROLES["case_export_identified"] = ()  # the export with names and numbers: admins only, with a reason
ROLES["services"] = ROLES["service_rules"] = ("dispatcher",)  # providers, prices, subsidies (issue 15)
ROLES["settlement"] = ("dispatcher",)  # bureau staff of the elderly line settle the providers' months
ROLES["service_reports"] = ("dispatcher",)  # the purchased-services report
ROLES["payments"] = ("dispatcher",)  # the elderly line's payments and subsidies
PEOPLE = {"technician": ("dispatcher",), "resident": ("dispatcher",), "officer": ("duty_officer",)}
OPEN = {"console.login", "console.logout", "console.home"}


def _roles_of(endpoint: str) -> tuple[str, ...]:
    blueprint, _, view = endpoint.partition(".")
    if blueprint == "people":
        return next(roles for kind, roles in PEOPLE.items() if kind in view)
    assert blueprint in ROLES, f"{endpoint}: add its blueprint to ROLES in this test, with the roles that may use it"
    return ROLES[blueprint]


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/console") and rule.endpoint not in OPEN and rule.endpoint != "static":
            for method in sorted(rule.methods & {"GET", "POST"}):
                yield method, re.sub(r"<[^>]+>", "1", rule.rule), rule.endpoint


@pytest.fixture
def clients(app, demo):
    staff = Staff(app)
    return {role: staff.login(role) for role in ("dispatcher", "duty_officer")}


def test_every_console_route_names_its_roles(app):
    for _, _, endpoint in _routes(app):
        _roles_of(endpoint)


def test_a_role_outside_a_routes_roles_is_forbidden(app, clients):
    wrong = []
    for method, path, endpoint in _routes(app):
        for role, client in clients.items():
            if role in _roles_of(endpoint):
                continue
            resp = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": client.csrf})
            if resp.status_code != 403:
                wrong.append((role, method, path, resp.status_code))
    assert wrong == []


def test_a_visitor_is_sent_to_sign_in_on_every_route(app):
    client = app.test_client()
    wrong = []
    for method, path, _ in _routes(app):
        resp = client.get(path) if method == "GET" else client.post(path)
        signed_out = resp.status_code in (401, 403) or (resp.status_code == 302 and "/console/login" in resp.location)
        # A POST without a session has no CSRF token either: 400 changes nothing as well.
        if not signed_out and not (method == "POST" and resp.status_code == 400):
            wrong.append((method, path, resp.status_code))
    assert wrong == []
