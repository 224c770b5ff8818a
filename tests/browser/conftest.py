"""Browser fixtures: the app in local mode on a real HTTP port, a real worker, headless Debian Chromium.

Chromium is Debian's package at /usr/bin/chromium, driven by the playwright Python package; nothing is
downloaded at test time. Without it the browser tests are skipped with a message, except where
HOTLINE_REQUIRE_BROWSER=1 (CI) makes a missing browser a failure. Screenshots of the pages go to
test-artifacts/screenshots/.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hotline.registry.demo import load_demo
from models import utcnow
from tests.console.conftest import Staff
from tests.live import Workers, serve

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the run."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install Debian's chromium package (apt-get install chromium)"
        if os.environ.get("HOTLINE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture
def settings(settings):
    """Local mode, as a new user's `make run`: no Twilio account, SMS and calls go to the outbox."""
    # http, as on a pilot laptop: the session cookie is not Secure-only, so the browser sends it on http.
    return settings.with_overrides(twilio_account_sid="", offer_timeout_seconds=600,
                                   public_base_url="http://hotline.test", satisfaction_delay_seconds=0)


@pytest.fixture
def demo(app):
    """The demo registry and a week's rota, as `make run` loads them."""
    with app.extensions["hotline"].session_factory() as session:
        assert load_demo(session, app.extensions["hotline"].settings.tz, utcnow())
        session.commit()


@pytest.fixture
def live(app):
    """The app served over HTTP on 127.0.0.1 (a thread per request); yields its base URL."""
    with serve(app) as base:
        yield base


@pytest.fixture
def worker(settings, tmp_path):
    """One real `worker.py` process on the test database and Redis."""
    pool = Workers(settings, tmp_path)
    pool.start()
    yield pool
    pool.close()


class Console:
    """Opens browser pages logged in as a role; saves screenshots under test-artifacts/; collects the
    Content Security Policy violations the pages log (`csp_errors`)."""

    def __init__(self, browser, base: str, staff: Staff):
        self.browser, self.base, self.staff = browser, base, staff
        self.contexts = []
        self.csp_errors: list[str] = []

    def _console_message(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp_errors.append(message.text)

    def page(self, role: str | None = None, username: str | None = None):
        """A new browser page (own cookies), logged in as a new user of `role` unless role is None."""
        context = self.browser.new_context(base_url=self.base, locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", self._console_message)
        if role is not None:
            username = username or f"{role}-{len(self.contexts)}"
            self.staff.user(username, role)
            self.login(page, username)
        return page

    @staticmethod
    def login(page, username: str, password: str | None = None) -> None:
        """Fill in and submit the login form."""
        from tests.console.conftest import PASSWORD

        page.goto("/console/login")
        page.fill("#username", username)
        page.fill("#password", password or PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#current-user")

    @staticmethod
    def screenshot(page, name: str) -> Path:
        """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def console(browser, live, app):
    """Browser pages on the live app: `console.page("dispatcher")`."""
    pages = Console(browser, live, Staff(app))
    yield pages
    pages.close()
    # Every browser test also checks that the strict CSP broke nothing on the pages it used.
    assert pages.csp_errors == [], pages.csp_errors
