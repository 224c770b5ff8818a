"""Alembic environment: the schema is models.Base.metadata, the engine is the app's."""
from __future__ import annotations

from alembic import context
from flask import current_app

from models import Base


def _engine():
    return current_app.extensions["hotline"].engine


def run_migrations_offline() -> None:
    """Emit SQL without a connection (`flask db upgrade --sql`)."""
    context.configure(url=str(_engine().url), target_metadata=Base.metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the configured database."""
    with _engine().connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
