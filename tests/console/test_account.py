"""Change my password: every signed-in role may; the current password is required; other browsers sign out."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.console.login_limits import MAX_FAILURES
from models import ConsoleSession
from tests.console.conftest import PASSWORD, csrf_of

NEW = "a-brand-new-password"


def _change(client, current=PASSWORD, new=NEW, again=None):
    return client.post("/console/account/password", data={"current_password": current, "new_password": new,
                                                           "new_password_again": NEW if again is None else again,
                                                           "csrf_token": client.csrf})


def _login(app, username, password):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token})


def test_a_visitor_is_sent_to_the_login_page(client):
    assert client.get("/console/account/password").status_code == 302


@pytest.mark.parametrize("role", ["admin", "dispatcher", "duty_officer"])
def test_every_role_may_open_the_page(staff, role):
    client = staff.login(role)
    assert client.get("/console/account/password").status_code == 200


@pytest.mark.parametrize("role", ["admin", "dispatcher", "duty_officer"])
def test_every_role_may_change_their_password(app, staff, role):
    client = staff.login(role, "me")
    assert _change(client).status_code == 302
    assert _login(app, "me", NEW).status_code == 302


def test_a_changed_password_signs_out_other_browsers_but_not_this_one(app, staff):
    here = staff.login("dispatcher", "me")
    there = app.test_client()
    token = csrf_of(there.get("/console/login").get_data(as_text=True))
    there.post("/console/login", data={"username": "me", "password": PASSWORD, "csrf_token": token})
    _change(here)
    assert there.get("/console/orders/").status_code == 302
    assert here.get("/console/orders/").status_code == 200
    with app.extensions["hotline"].session_factory() as session:
        reasons = list(session.scalars(select(ConsoleSession.end_reason).order_by(ConsoleSession.id)))
    assert reasons == ["password", "password", ""]


def test_a_wrong_current_password_changes_nothing(app, staff):
    client = staff.login("dispatcher", "me")
    resp = _change(client, current="not-my-password")
    assert resp.status_code == 400
    assert "当前密码不正确" in resp.get_data(as_text=True)
    assert _login(app, "me", PASSWORD).status_code == 302


def test_new_passwords_that_differ_or_are_short_are_refused(app, staff):
    client = staff.login("dispatcher", "me")
    assert _change(client, again="something-else").status_code == 400
    assert _change(client, new="short", again="short").status_code == 400
    assert _login(app, "me", PASSWORD).status_code == 302


def test_guessing_the_current_password_counts_against_the_names_lock(staff):
    client = staff.login("dispatcher", "me")
    for _ in range(MAX_FAILURES):
        _change(client, current="a-guess-at-it")
    assert _change(client).status_code == 429
