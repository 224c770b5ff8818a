"""The application factory: settings -> database -> queue -> blueprints -> CLI."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from types import SimpleNamespace

from flask import Flask
from flask_migrate import Migrate
from rq import Queue
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from dispatch.runtime import build_queue
from hotline import console, db, headers, security
from hotline.api import cases as cases_api, orders as api
from hotline.cli import commands as cli
from hotline.config import PROJECT_ROOT, Settings, load_settings
from hotline.webhooks import (
    aliyun,
    aliyun_voice,
    arrival,
    cases,
    clock_in,
    fallback,
    operator,
    satisfaction,
    sms,
    tencent,
    voice,
)
from models import Base, make_engine, make_hot_engine, make_session_factory


@dataclass
class HotlineState:
    """What the factory built, kept in app.extensions["hotline"]."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker
    queue: Queue
    hot_engine: Engine  # the elderly IVR's one-statement webhooks (models.make_hot_engine)

    def dispose(self) -> None:
        """Close every pooled database connection (tests, shutdown)."""
        self.engine.dispose()
        self.hot_engine.dispose()


def create_app(test_config: Settings | None = None) -> Flask:
    """Build the hotline web app from settings (the environment unless `test_config` is given)."""
    settings = test_config or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(SECRET_KEY=settings.secret_key, JSON_AS_ASCII=False,
                      MAX_CONTENT_LENGTH=8 * 1024 * 1024)
    app.json.ensure_ascii = False
    if settings.trusted_proxy_count:
        # Only the last N X-Forwarded-For entries, the ones our own proxies appended, are believed; the
        # Host header is not taken from the proxy (PUBLIC_BASE_URL names the public origin).
        n = settings.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0)
    _configure_logging()
    engine = make_engine(settings.database_url)
    app.extensions["hotline"] = HotlineState(settings, engine, make_session_factory(engine), build_queue(settings),
                                             make_hot_engine(engine))
    # Flask-Migrate only needs the metadata; env.py takes the engine from app.extensions["hotline"].
    Migrate(app, SimpleNamespace(metadata=Base.metadata), directory=str(PROJECT_ROOT / "migrations"))

    app.before_request(security.webhook_limits)  # first of all hooks: a flood is refused before any work
    app.teardown_appcontext(db.close_session)
    headers.register(app)
    app.register_blueprint(voice.bp)
    app.register_blueprint(operator.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(cases_api.bp)
    app.register_blueprint(satisfaction.bp)
    app.register_blueprint(arrival.bp)
    app.register_blueprint(clock_in.bp)
    fallback.register(app)
    app.register_blueprint(sms.bp)
    app.register_blueprint(aliyun.bp)
    app.register_blueprint(tencent.bp)
    app.register_blueprint(aliyun_voice.bp)
    app.register_blueprint(api.bp)
    console.register(app)
    cli.register(app)

    @app.get("/healthz")
    def healthz():
        """Liveness for load balancers and `make run`."""
        return {"ok": True, "local_mode": settings.local_mode}

    return app


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
