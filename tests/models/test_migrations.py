"""`flask db upgrade` brings an empty database to exactly the schema the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from hotline.config import PROJECT_ROOT
from hotline.factory import create_app
from models import Base

MIGRATIONS = str(PROJECT_ROOT / "migrations")


def _empty_app(settings):
    app = create_app(settings)
    engine = app.extensions["hotline"].engine
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:  # forget an earlier run's version table (PostgreSQL keeps its schema)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    return app


def test_upgrade_from_empty_matches_the_models(settings):
    app = _empty_app(settings)
    engine = app.extensions["hotline"].engine
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"render_as_batch": True}), Base.metadata)
    assert diffs == []
    assert "orders" in inspect(engine).get_table_names()
    engine.dispose()


def test_downgrade_to_base_removes_every_table(settings):
    app = _empty_app(settings)
    engine = app.extensions["hotline"].engine
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        downgrade(directory=MIGRATIONS, revision="base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_flask_db_upgrade_command_runs(runner, settings):
    app = _empty_app(settings)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "orders" in inspect(app.extensions["hotline"].engine).get_table_names()
