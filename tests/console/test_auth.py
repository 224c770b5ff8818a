"""Console logins: hashed passwords, roles, the rate limit, CSRF, cookies, `flask create-user`."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.console.login_limits import MAX_FAILURES
from models import StaffUser
from tests.console.conftest import PASSWORD, csrf_of


def _login(client, username, password):
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token})


def _users(app):
    with app.extensions["hotline"].session_factory() as session:
        return list(session.scalars(select(StaffUser)))


def test_passwords_are_stored_only_as_salted_hashes(app, staff):
    staff.user("a", "admin")
    staff.user("b", "admin")
    a, b = _users(app)
    assert PASSWORD not in a.password_hash
    assert a.password_hash != b.password_hash


def test_console_pages_send_a_visitor_to_the_login_page(client):
    resp = client.get("/console/orders/")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/console/login?next=")


def test_a_right_password_logs_in_and_lands_on_the_roles_first_page(app, staff):
    staff.user("wang", "dispatcher")
    client = app.test_client()
    resp = _login(client, "wang", PASSWORD)
    assert resp.status_code == 302
    assert client.get("/console/").headers["Location"].endswith("/console/orders/")


def test_a_duty_officer_lands_on_the_cases(app, staff):
    client = staff.login("duty_officer")
    assert client.get("/console/").headers["Location"].endswith("/console/cases/")


def test_a_wrong_password_is_refused_with_a_message(app, staff):
    staff.user("wang", "dispatcher")
    resp = _login(app.test_client(), "wang", "not-the-password")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True)


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(app):
    resp = _login(app.test_client(), "nobody", "whatever-password")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True)


def test_repeated_failures_lock_the_name_even_for_the_right_password(app, staff):
    staff.user("wang", "dispatcher")
    client = app.test_client()
    for _ in range(MAX_FAILURES):
        assert _login(client, "wang", "wrong-password").status_code == 401
    resp = _login(client, "wang", PASSWORD)
    assert resp.status_code == 429
    assert "15" in resp.get_data(as_text=True)


def test_a_deactivated_user_cannot_log_in_and_loses_an_open_session(app, staff):
    client = staff.login("dispatcher", "li")
    with app.extensions["hotline"].session_factory() as session:
        session.scalar(select(StaffUser).where(StaffUser.username == "li")).active = False
        session.commit()
    assert client.get("/console/orders/").status_code == 302
    assert _login(app.test_client(), "li", PASSWORD).status_code == 401


def test_a_post_without_the_csrf_token_is_refused(app, staff):
    staff.user("wang", "dispatcher")
    resp = app.test_client().post("/console/login", data={"username": "wang", "password": PASSWORD})
    assert resp.status_code == 400


def test_logout_needs_the_csrf_token_and_ends_the_session(staff):
    client = staff.login("dispatcher")
    assert client.post("/console/logout").status_code == 400
    assert client.get("/console/orders/").status_code != 302
    client.post("/console/logout", data={"csrf_token": client.csrf})
    assert client.get("/console/orders/").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite(app, staff):
    staff.user("wang", "dispatcher")
    resp = _login(app.test_client(), "wang", PASSWORD)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The test settings' PUBLIC_BASE_URL is https: the cookie is only sent over https.
    assert "Secure" in cookie


def test_login_never_redirects_off_site(app, staff):
    staff.user("wang", "dispatcher")
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    resp = client.post("/console/login?next=//evil.example/x",
                       data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/console/"


def test_a_page_of_another_role_is_forbidden(staff):
    assert staff.login("dispatcher").get("/console/cases/").status_code == 403
    assert staff.login("duty_officer", "duty").get("/console/orders/").status_code == 403


def test_the_language_switch_is_remembered(staff):
    client = staff.login("dispatcher")
    assert "Sign out" in client.get("/console/orders/?lang=en").get_data(as_text=True)
    assert "Sign out" in client.get("/console/orders/").get_data(as_text=True)
    assert "退出" in client.get("/console/orders/?lang=zh-CN").get_data(as_text=True)


def test_every_console_text_exists_in_both_languages():
    from hotline.console.i18n import catalogue

    assert set(catalogue("zh-CN")) == set(catalogue("en"))


def test_create_user_command_hashes_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["create-user", "zhao", "--role", "duty_officer"], input="long-enough-pw\n")
    assert result.exit_code == 0, result.output
    (user,) = _users(app)
    assert (user.username, user.role) == ("zhao", "duty_officer")
    assert _login(app.test_client(), "zhao", "long-enough-pw").status_code == 302


def test_create_user_command_refuses_a_short_password_or_unknown_role(app, runner):
    assert runner.invoke(args=["create-user", "zhao", "--role", "admin"], input="short\n").exit_code != 0
    assert runner.invoke(args=["create-user", "zhao", "--role", "boss"], input="long-enough-pw\n").exit_code != 0
    assert _users(app) == []


def _login_to(client, next_, username="wang", password=PASSWORD):
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", query_string={"next": next_},
                       data={"username": username, "password": password, "csrf_token": token})


@pytest.mark.parametrize("next_", ["/console/orders/\r\nSet-Cookie: x=1", "/console/\n", "/console/\x7f",
                                   "/console/\\evil.example", "https://evil.example/console/",
                                   "/console/" + "x" * 3000, "javascript:alert(1)", "/\\evil.example"])
def test_a_malformed_next_lands_on_the_roles_first_page(app, staff, next_):
    staff.user("wang", "dispatcher")
    resp = _login_to(app.test_client(), next_)
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/console/"


def test_a_next_inside_the_console_is_followed(app, staff):
    staff.user("wang", "dispatcher")
    assert _login_to(app.test_client(), "/console/orders/?status=open").headers["Location"] == \
        "/console/orders/?status=open"


@pytest.mark.parametrize("username, password", [("x" * 10_000, "whatever-password"), ("wang", "p" * 100_000),
                                                ("wa\x00ng", PASSWORD), ("wang\r\n", "p\x00"), ("", "")])
def test_a_malformed_login_form_is_refused_not_a_500(app, staff, username, password):
    staff.user("wang", "dispatcher")
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    resp = client.post("/console/login", data={"username": username, "password": password, "csrf_token": token})
    assert resp.status_code in (400, 401, 413)


def test_a_csrf_token_with_non_ascii_characters_is_refused_not_a_500(app, staff):
    staff.user("wang", "dispatcher")
    client = app.test_client()
    client.get("/console/login")  # the session has a token to compare with
    resp = client.post("/console/login", data={"username": "wang", "password": PASSWORD, "csrf_token": "令牌"})
    assert resp.status_code == 400


def test_logout_without_a_session_or_by_get_is_a_4xx(client):
    assert client.post("/console/logout").status_code == 400
    assert client.get("/console/logout").status_code == 405


@pytest.mark.parametrize("path", ["/console/audit/?actor=a%00b", "/console/login?next=/console/%00",
                                  "/console/residents?q=ok&q=%00", "/console/residents?q%00=1"])
def test_a_nul_character_anywhere_in_a_console_request_is_a_400(staff, path):
    assert staff.login("admin").get(path).status_code == 400
