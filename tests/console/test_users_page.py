"""The admins' Users page: list, create, (de)activate, reset a password, end sessions; each action logged."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AccessLog, ConsoleSession, StaffUser, user_by_name
from tests.console.conftest import PASSWORD, csrf_of

NEW_PASSWORD = "another-long-password"


def _user(app, username) -> StaffUser:
    with app.extensions["hotline"].session_factory() as session:
        return user_by_name(session, username)


def _log(app) -> list[tuple[str, str, str]]:
    with app.extensions["hotline"].session_factory() as session:
        return [(r.action, r.actor, r.reason) for r in session.scalars(select(AccessLog).order_by(AccessLog.id))]


def _login(app, username, password=PASSWORD):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def admin(staff):
    return staff.login("admin", "boss")


@pytest.fixture
def li(app, staff):
    """A dispatcher signed in on a browser of her own."""
    client = staff.login("dispatcher", "li")
    client.user_id = _user(app, "li").id
    return client


ROUTES = [("get", "/console/users/", {}), ("post", "/console/users/", {"username": "x"}),
          ("post", "/console/users/{id}/active", {"active": "0"}),
          ("post", "/console/users/{id}/password", {"password": NEW_PASSWORD}),
          ("post", "/console/users/{id}/sessions/end", {})]


@pytest.mark.parametrize("method, path, data", ROUTES)
def test_a_visitor_is_sent_to_the_login_page(app, staff, client, method, path, data):
    staff.user("li", "dispatcher")
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    resp = getattr(client, method)(path.format(id=_user(app, "li").id), data={**data, "csrf_token": token})
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]
    assert _user(app, "li").active and _log(app) == []


@pytest.mark.parametrize("role", ["dispatcher", "duty_officer"])
@pytest.mark.parametrize("method, path, data", ROUTES)
def test_other_roles_are_forbidden_and_change_nothing(app, staff, role, method, path, data):
    client = staff.login(role, "someone")
    staff.user("li", "dispatcher")
    resp = getattr(client, method)(path.format(id=_user(app, "li").id), data={**data, "csrf_token": client.csrf})
    assert resp.status_code == 403
    assert _user(app, "li").active and _log(app) == []


def test_an_admin_sees_every_user_with_role_and_open_sessions(app, admin, li):
    html = admin.get("/console/users/").get_data(as_text=True)
    assert 'data-username="li" data-active="1" data-sessions="1"' in html
    assert 'data-username="boss"' in html


def test_the_users_page_is_in_an_admins_navigation_only(admin, staff):
    assert 'data-nav="users.index"' in admin.get("/console/audit/").get_data(as_text=True)
    assert 'data-nav="users.index"' not in staff.login("dispatcher").get("/console/orders/").get_data(as_text=True)


def test_an_admin_creates_a_user_who_can_sign_in(app, admin):
    resp = admin.post("/console/users/", data={"username": "zhao", "display_name": "小赵", "role": "duty_officer",
                                               "password": NEW_PASSWORD, "csrf_token": admin.csrf})
    assert resp.status_code == 302
    assert _login(app, "zhao", NEW_PASSWORD).status_code == 302
    assert _log(app) == [("user:create", "boss", "zhao")]


@pytest.mark.parametrize("fields", [{"username": "boss"}, {"username": "a b"}, {"username": "x" * 65},
                                    {"role": "root"}, {"password": "short"}, {"username": "zh\x07ao"}])
def test_a_bad_new_user_is_refused_with_a_message_and_nothing_created(app, admin, fields):
    data = {"username": "zhao", "role": "dispatcher", "password": NEW_PASSWORD, **fields, "csrf_token": admin.csrf}
    resp = admin.post("/console/users/", data=data)
    assert resp.status_code == 400
    assert 'id="users-error"' in resp.get_data(as_text=True)
    assert _log(app) == []


def test_deactivating_a_user_ends_their_sessions_and_is_logged(app, admin, li):
    admin.post(f"/console/users/{li.user_id}/active", data={"active": "0", "csrf_token": admin.csrf})
    assert li.get("/console/orders/").status_code == 302
    assert _login(app, "li").status_code == 401
    assert _log(app) == [("user:deactivate", "boss", "li")]


def test_an_activated_user_can_sign_in_again(app, admin, li):
    admin.post(f"/console/users/{li.user_id}/active", data={"active": "0", "csrf_token": admin.csrf})
    admin.post(f"/console/users/{li.user_id}/active", data={"active": "1", "csrf_token": admin.csrf})
    assert _login(app, "li").status_code == 302
    assert [action for action, _, _ in _log(app)] == ["user:deactivate", "user:activate"]


def test_an_admin_cannot_deactivate_themself(app, admin):
    resp = admin.post(f"/console/users/{_user(app, 'boss').id}/active", data={"active": "0", "csrf_token": admin.csrf})
    assert resp.status_code == 400
    assert _user(app, "boss").active


def test_a_reset_password_ends_the_users_sessions_and_the_old_password(app, admin, li):
    admin.post(f"/console/users/{li.user_id}/password", data={"password": NEW_PASSWORD, "csrf_token": admin.csrf})
    assert li.get("/console/orders/").status_code == 302
    assert _login(app, "li").status_code == 401
    assert _login(app, "li", NEW_PASSWORD).status_code == 302
    assert _log(app) == [("user:reset-password", "boss", "li")]


def test_a_too_short_reset_password_is_refused(app, admin, li):
    resp = admin.post(f"/console/users/{li.user_id}/password", data={"password": "short", "csrf_token": admin.csrf})
    assert resp.status_code == 400
    assert li.get("/console/orders/").status_code == 200


def test_an_admin_ends_all_of_a_users_sessions(app, admin, li, staff):
    admin.post(f"/console/users/{li.user_id}/sessions/end", data={"csrf_token": admin.csrf})
    assert li.get("/console/orders/").status_code == 302
    with app.extensions["hotline"].session_factory() as session:
        assert session.scalar(select(ConsoleSession.end_reason).where(ConsoleSession.user_id == li.user_id)) == "admin"
    assert _log(app) == [("user:end-sessions", "boss", "li")]


def test_an_unknown_user_is_404(admin):
    assert admin.post("/console/users/9999/sessions/end", data={"csrf_token": admin.csrf}).status_code == 404
