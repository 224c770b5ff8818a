"""Console sessions live on the server: logout, a password change and deactivation end them everywhere;
a session ends after SESSION_IDLE_MINUTES without a click and SESSION_MAX_HOURS after it began."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from models import ConsoleSession, StaffUser, utcnow
from tests.console.conftest import PASSWORD, csrf_of

COOKIE = "hotline_console"


def _rows(app, username=None):
    with app.extensions["hotline"].session_factory() as session:
        query = select(ConsoleSession).order_by(ConsoleSession.id)
        if username:
            query = query.join(StaffUser).where(StaffUser.username == username)
        return list(session.scalars(query))


def _age(app, **delta):
    """Every session began and was last seen this long ago."""
    with app.extensions["hotline"].session_factory() as session:
        for row in session.scalars(select(ConsoleSession)):
            row.created_at -= timedelta(**delta)
            row.last_seen_at -= timedelta(**delta)
        session.commit()


def _cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def _replay(app, cookie: str):
    """A second browser carrying a copy of a cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie)
    return other


def test_the_cookie_carries_a_random_token_and_the_table_only_its_hash(app, staff):
    client = staff.login("dispatcher")
    (row,) = _rows(app)
    assert row.token_hash not in _cookie(client)
    assert len(row.token_hash) == 64


def test_a_copy_of_the_cookie_saved_before_logout_no_longer_signs_in(app, staff):
    client = staff.login("dispatcher")
    saved = _cookie(client)
    client.post("/console/logout", data={"csrf_token": client.csrf})
    resp = _replay(app, saved).get("/console/orders/")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]


def test_logout_records_the_end_and_its_reason(app, staff):
    client = staff.login("dispatcher")
    client.post("/console/logout", data={"csrf_token": client.csrf})
    (row,) = _rows(app)
    assert row.ended_at is not None and row.end_reason == "logout"


def test_a_session_idle_longer_than_the_idle_lifetime_ends(app, staff):
    client = staff.login("dispatcher")
    _age(app, minutes=31)
    assert client.get("/console/orders/").status_code == 302
    assert _rows(app)[0].end_reason == "idle"


def test_a_session_used_within_the_idle_lifetime_goes_on(app, staff):
    client = staff.login("dispatcher")
    _age(app, minutes=29)
    assert client.get("/console/orders/").status_code == 200
    assert utcnow() - _rows(app)[0].last_seen_at < timedelta(minutes=1)


def test_a_busy_session_still_ends_after_the_absolute_lifetime(app, staff):
    client = staff.login("dispatcher")
    with app.extensions["hotline"].session_factory() as session:
        session.execute(update(ConsoleSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1)))
        session.commit()
    assert client.get("/console/orders/").status_code == 302
    assert _rows(app)[0].end_reason == "expired"


def test_the_lifetimes_come_from_the_settings(settings):
    from hotline.factory import create_app
    from tests.console.conftest import Staff

    app = create_app(settings.with_overrides(session_idle_minutes=5))
    client = Staff(app).login("dispatcher")
    _age(app, minutes=6)
    assert client.get("/console/orders/").status_code == 302
    app.extensions["hotline"].dispose()


def test_the_boards_auto_refresh_does_not_keep_a_session_alive(app, staff):
    client = staff.login("dispatcher")
    _age(app, minutes=20)
    seen = _rows(app)[0].last_seen_at
    assert client.get("/console/orders/rows").status_code == 200
    assert _rows(app)[0].last_seen_at == seen


def test_the_softphones_inbox_polling_does_not_keep_a_session_alive(app, staff):
    client = staff.login("dispatcher")
    _age(app, minutes=20)
    seen = _rows(app)[0].last_seen_at
    client.get("/console/softphone/inbox?number=%2B8613804761101")
    assert _rows(app)[0].last_seen_at == seen


def test_a_click_refreshes_last_seen_at_most_once_a_minute(app, staff):
    client = staff.login("dispatcher")
    seen = _rows(app)[0].last_seen_at
    client.get("/console/orders/")
    assert _rows(app)[0].last_seen_at == seen
    _age(app, minutes=2)
    client.get("/console/orders/")
    assert utcnow() - _rows(app)[0].last_seen_at < timedelta(minutes=1)


def test_an_ended_session_sends_a_page_to_the_login_with_a_message(app, staff):
    client = staff.login("dispatcher")
    _age(app, minutes=31)
    resp = client.get("/console/orders/", follow_redirects=True)
    assert "请重新登录" in resp.get_data(as_text=True)


def test_an_ended_session_answers_the_boards_refresh_with_401(app, staff):
    client = staff.login("dispatcher")
    _age(app, minutes=31)
    resp = client.get("/console/orders/rows", headers={"Accept": "text/html", "Sec-Fetch-Mode": "cors"})
    assert resp.status_code == 401
    assert "error" in resp.get_json()


def test_a_session_the_boards_refresh_found_ended_still_says_so_at_the_next_click(app, staff):
    client = staff.login("dispatcher")
    _age(app, minutes=31)
    assert client.get("/console/orders/rows", headers={"Sec-Fetch-Mode": "cors"}).status_code == 401
    resp = client.get("/console/orders/", follow_redirects=True)
    assert "请重新登录" in resp.get_data(as_text=True)
    # Said once: the login page after it is a plain one.
    assert "请重新登录" not in client.get("/console/login").get_data(as_text=True)


def test_a_fetch_from_a_visitor_gets_401_not_the_login_page(client):
    assert client.get("/console/orders/rows").status_code == 401


def test_a_new_login_gets_a_new_token(app, staff):
    client = staff.login("dispatcher", "wang")
    first = _cookie(client)
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    client.post("/console/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    assert _cookie(client) != first
    assert len(_rows(app)) == 2


def test_deactivating_a_user_ends_their_sessions_even_if_activated_again(app, staff):
    client = staff.login("dispatcher", "li")
    with app.extensions["hotline"].session_factory() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == "li"))
        user.active = False
        session.commit()
        assert client.get("/console/orders/").status_code == 302
        user.active = True
        session.commit()
    assert client.get("/console/orders/").status_code == 302
    assert _rows(app)[0].end_reason == "deactivated"


def test_a_forged_or_stale_cookie_is_simply_signed_out(app, client):
    client.set_cookie(COOKIE, "not-a-signed-cookie\r\n")
    assert client.get("/console/orders/").status_code == 302
    assert client.get("/console/login").status_code == 200
