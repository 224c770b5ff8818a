"""Console fixtures: users of each role, and a client logged in as one of them."""
from __future__ import annotations

import re

import pytest

from hotline.registry.demo import load_demo
from hotline.staff import create_user
from models import utcnow

PASSWORD = "correct-horse-battery"


def csrf_of(html: str) -> str:
    """The CSRF token a console page carries (meta tag or hidden field)."""
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Staff:
    """Creates console users and logs test clients in; `csrf` is the logged-in session's token."""

    def __init__(self, app):
        self.app = app

    def user(self, username: str, role: str) -> None:
        """Create a user with the shared test password."""
        state = self.app.extensions["hotline"]
        with state.session_factory() as session:
            create_user(session, username, PASSWORD, role)
            session.commit()

    def login(self, role: str, username: str | None = None):
        """A new test client logged in as a new user of `role`; its token is `client.csrf`."""
        username = username or f"{role}-user"
        self.user(username, role)
        client = self.app.test_client()
        token = csrf_of(client.get("/console/login").get_data(as_text=True))
        resp = client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        client.csrf = csrf_of(client.get("/console/login").get_data(as_text=True))
        return client


@pytest.fixture
def demo(app, db):
    """The demo registry and rota, as `make run` loads them."""
    load_demo(db, app.extensions["hotline"].settings.tz, utcnow())
    db.commit()


@pytest.fixture
def staff(app) -> Staff:
    """Make console users and logged-in clients: `staff.login("dispatcher")`."""
    return Staff(app)
