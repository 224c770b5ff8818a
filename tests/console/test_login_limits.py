"""Password guessing: a name locks after MAX_FAILURES checked guesses, counted before checking, even when
the guesses arrive in parallel; an address (an office behind one NAT) is slowed down, never locked;
X-Forwarded-For is believed only from TRUSTED_PROXY_COUNT proxies of our own."""
from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import select

from hotline.console import auth
from hotline.console.login_limits import ADDRESS_PER_MINUTE, MAX_FAILURES
from hotline.factory import create_app
from models import AccessLog
from tests.console.conftest import PASSWORD, Staff, csrf_of
from tests.live import in_parallel, serve


def _login(client, username, password, headers=None):
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token},
                       headers=headers or {})


@pytest.fixture
def password_checks(monkeypatch):
    """How many passwords the login form checked (hash comparisons), counted across threads."""
    calls, lock = [], threading.Lock()
    real = auth.check_password_hash

    def counting(pwhash, password):
        with lock:
            calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(auth, "check_password_hash", counting)
    return calls


def _browser(base):
    """A requests session with the login form's CSRF token (as a browser that opened the page)."""
    http = requests.Session()
    page = http.get(f"{base}/console/login", timeout=30)
    # The test cookie is Secure (https PUBLIC_BASE_URL) and this server speaks http: sent by hand.
    http.cookies.clear()
    http.headers["Cookie"] = f"hotline_console={page.cookies['hotline_console']}"
    http.csrf = csrf_of(page.text)
    return http


def test_parallel_wrong_guesses_check_at_most_max_failures_passwords(app, staff, password_checks):
    staff.user("wang", "dispatcher")
    with serve(app) as base:
        browsers = [_browser(base) for _ in range(12)]

        def guess(http, n):
            return http.post(f"{base}/console/login", data={"username": "wang", "password": f"guess-{n}",
                                                            "csrf_token": http.csrf},
                             allow_redirects=False, timeout=60).status_code

        statuses = in_parallel(guess, [(http, n) for n, http in enumerate(browsers)])
    assert sorted(set(statuses)) == [401, 429]
    assert len(password_checks) <= MAX_FAILURES
    assert statuses.count(429) >= 12 - MAX_FAILURES


def test_a_locked_name_checks_no_password_at_all(app, staff, password_checks):
    staff.user("wang", "dispatcher")
    client = app.test_client()
    for _ in range(MAX_FAILURES):
        _login(client, "wang", "wrong-password")
    assert _login(client, "wang", PASSWORD).status_code == 429
    assert len(password_checks) == MAX_FAILURES


def test_a_right_password_clears_the_names_count(app, staff):
    staff.user("wang", "dispatcher")
    client = app.test_client()
    for _ in range(MAX_FAILURES - 1):
        _login(client, "wang", "wrong-password")
    assert _login(client, "wang", PASSWORD).status_code == 302
    for _ in range(MAX_FAILURES - 1):
        assert _login(app.test_client(), "wang", "wrong-password").status_code == 401
    assert _login(app.test_client(), "wang", PASSWORD).status_code == 302


def test_one_officers_typos_do_not_lock_out_a_colleague_behind_the_same_address(app, staff):
    staff.user("wang", "dispatcher")
    staff.user("li", "duty_officer")
    for _ in range(MAX_FAILURES + 1):
        _login(app.test_client(), "wang", "wrong-password")
    assert _login(app.test_client(), "li", PASSWORD).status_code == 302


def test_an_unknown_name_is_still_checked_against_a_hash(app, password_checks):
    assert _login(app.test_client(), "nobody", "whatever-password").status_code == 401
    assert len(password_checks) == 1


def test_too_many_attempts_a_minute_from_one_address_must_wait(app):
    client = app.test_client()
    for n in range(ADDRESS_PER_MINUTE):
        assert _login(client, f"user{n}", "wrong-password").status_code == 401
    resp = _login(client, "someone-else", "wrong-password")
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert "一分钟" in resp.get_data(as_text=True)


def test_another_address_is_not_slowed_down(app):
    client = app.test_client()
    for n in range(ADDRESS_PER_MINUTE + 1):
        _login(client, f"user{n}", "wrong-password")
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert _login(other, "user0", "wrong-password").status_code == 401


def test_a_forged_x_forwarded_for_does_not_escape_the_address_limit(app):
    client = app.test_client()
    statuses = [_login(client, f"user{n}", "wrong-password", {"X-Forwarded-For": f"198.51.100.{n}"}).status_code
                for n in range(ADDRESS_PER_MINUTE + 1)]
    assert statuses[-1] == 429


def _admin_deactivates_someone(app, headers):
    staffing = Staff(app)
    staffing.user("li", "dispatcher")
    admin = staffing.login("admin")
    with app.extensions["hotline"].session_factory() as session:
        from models import user_by_name
        target = user_by_name(session, "li").id
    admin.post(f"/console/users/{target}/active", data={"csrf_token": admin.csrf, "active": "0"}, headers=headers)
    with app.extensions["hotline"].session_factory() as session:
        return session.scalar(select(AccessLog.remote_addr).where(AccessLog.action == "user:deactivate"))


def test_without_trusted_proxies_the_access_log_keeps_the_socket_address(app):
    assert _admin_deactivates_someone(app, {"X-Forwarded-For": "203.0.113.9"}) == "127.0.0.1"


@pytest.fixture
def proxied_app(settings):
    """The app behind one reverse proxy of ours (TRUSTED_PROXY_COUNT=1)."""
    app = create_app(settings.with_overrides(trusted_proxy_count=1))
    app.config["TESTING"] = True
    yield app
    app.extensions["hotline"].dispose()


def test_behind_a_trusted_proxy_the_access_log_keeps_the_forwarded_address(proxied_app):
    assert _admin_deactivates_someone(proxied_app, {"X-Forwarded-For": "203.0.113.9"}) == "203.0.113.9"


def test_behind_a_trusted_proxy_only_the_address_it_appended_counts(proxied_app):
    client = proxied_app.test_client()
    # The client forged the first entry; our proxy appended the real one, and that is what is limited.
    for n in range(ADDRESS_PER_MINUTE):
        _login(client, f"user{n}", "wrong-password", {"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.9"})
    assert _login(client, "x", "wrong-password", {"X-Forwarded-For": "198.51.100.99, 203.0.113.9"}).status_code == 429
    assert _login(client, "x", "wrong-password", {"X-Forwarded-For": "203.0.113.10"}).status_code == 401


def test_with_redis_down_sign_in_is_refused_without_checking_a_password(settings, password_checks):
    from tests.live import CLOSED_REDIS_URL

    app = create_app(settings.with_overrides(redis_url=CLOSED_REDIS_URL))
    Staff(app).user("wang", "dispatcher")
    resp = _login(app.test_client(), "wang", PASSWORD)
    assert resp.status_code == 503
    assert password_checks == []
    app.extensions["hotline"].dispose()
