"""Hypothesis profiles for the fuzz tests, and the database snapshot they compare before and after.

`ci` (the default) runs a few dozen generated inputs per webhook or import kind, deterministically, so the
normal suite stays fast and never flakes on a new random draw. `fuzz` (HYPOTHESIS_PROFILE=fuzz, used by
`make fuzz`) runs over 10,000 per webhook and keeps failing examples in .hypothesis/ to replay them first.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from sqlalchemy import select

from models import Base

PROFILE_ENV = "HYPOTHESIS_PROFILE"
# Each test creates its app and database once and loops over the examples inside: no health check about
# function-scoped fixtures applies, but a database round trip per example is slow by Hypothesis' measure.
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
          HealthCheck.large_base_example, HealthCheck.function_scoped_fixture]

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=_QUIET,
                          derandomize=True, database=None, print_blob=True)
settings.register_profile("fuzz", max_examples=10_000, deadline=None, suppress_health_check=_QUIET,
                          print_blob=True)


def profile_name() -> str:
    """The profile chosen by HYPOTHESIS_PROFILE (default `ci`)."""
    return os.environ.get(PROFILE_ENV) or "ci"


def fuzz_settings(**overrides) -> settings:
    """The chosen profile as a decorator for an inner `@given` function (overrides on top)."""
    return settings(settings.get_profile(profile_name()), **overrides)


def db_snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: equal snapshots mean nothing changed."""
    snap = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            snap[table.name] = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
    return snap


def row_counts(engine) -> dict[str, int]:
    """How many rows each table has."""
    return {name: len(rows) for name, rows in db_snapshot(engine).items()}
