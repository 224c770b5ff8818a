"""`flask set-password` and `flask deactivate-user`: both end every session of the user."""
from __future__ import annotations

from sqlalchemy import select

from hotline.registry.demo import DEMO_LOGINS_FILE
from models import AccessLog, user_by_name
from tests.console.conftest import PASSWORD, Staff, csrf_of

NEW = "a-new-long-password"


def _login(app, username, password):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token})


def test_set_password_reads_one_line_from_stdin_and_ends_the_users_sessions(app, runner):
    signed_in = Staff(app).login("dispatcher", "wang")
    result = runner.invoke(args=["set-password", "wang"], input=f"{NEW}\n")
    assert result.exit_code == 0, result.output
    assert signed_in.get("/console/orders/").status_code == 302
    assert _login(app, "wang", PASSWORD).status_code == 401
    assert _login(app, "wang", NEW).status_code == 302


def test_set_password_refuses_a_short_password_or_an_unknown_user(app, runner):
    Staff(app).user("wang", "dispatcher")
    assert runner.invoke(args=["set-password", "wang"], input="short\n").exit_code != 0
    assert runner.invoke(args=["set-password", "nobody"], input=f"{NEW}\n").exit_code != 0
    assert _login(app, "wang", PASSWORD).status_code == 302


def test_set_password_drops_the_users_stale_demo_login(app, runner, settings):
    Staff(app).user("admin", "admin")
    logins = settings.instance_path / DEMO_LOGINS_FILE
    logins.parent.mkdir(parents=True, exist_ok=True)
    logins.write_text("admin admin old-pw\ndispatcher dispatcher pw2\n", encoding="utf-8")
    runner.invoke(args=["set-password", "admin"], input=f"{NEW}\n")
    assert logins.read_text(encoding="utf-8") == "dispatcher dispatcher pw2\n"


def test_deactivate_user_ends_the_users_sessions_and_is_logged(app, runner):
    signed_in = Staff(app).login("dispatcher", "wang")
    result = runner.invoke(args=["deactivate-user", "wang"])
    assert result.exit_code == 0, result.output
    assert signed_in.get("/console/orders/").status_code == 302
    assert _login(app, "wang", PASSWORD).status_code == 401
    with app.extensions["hotline"].session_factory() as session:
        assert not user_by_name(session, "wang").active
        assert session.scalar(select(AccessLog.action).where(AccessLog.actor == "cli")) == "user:deactivate"
