"""What a job needs to run: settings, a database session factory, the phone provider and the queue.

Built once per worker process by `configure()` (never at import time) and read by the jobs.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from redis import Redis
from rq import Queue
from sqlalchemy.orm import Session, sessionmaker

from models import make_engine, make_session_factory

from .providers import PhoneProvider, build_provider
from .settings import DispatchSettings


@dataclass
class Runtime:
    """Everything a job touches, built from the one settings object."""

    settings: DispatchSettings
    session_factory: sessionmaker
    provider: PhoneProvider
    queue: Queue

    @contextmanager
    def job_session(self) -> Iterator[Session]:
        """A session that keeps one connection for a whole job, through all its commits and sends.

        A plain session gives its connection back at each commit, and the pool pings every checkout: a job
        that commits, sends, then stores the SID would pay a checkout and a ping for each transaction.
        The connection is idle (no transaction open) while the job waits on the provider.
        """
        with self.session_factory.kw["bind"].connect() as connection, self.session_factory(bind=connection) as session:
            yield session


_current: Runtime | None = None


def build_queue(settings: DispatchSettings, connection: Redis | None = None) -> Queue:
    """The RQ queue of the hotline on the configured Redis."""
    return Queue(settings.queue_name, connection=connection or Redis.from_url(settings.redis_url))


def configure(settings: DispatchSettings, provider: PhoneProvider | None = None, queue: Queue | None = None,
              session_factory: sessionmaker | None = None) -> Runtime:
    """Build (or replace) the process's runtime from settings."""
    global _current
    _current = Runtime(
        settings=settings,
        session_factory=session_factory or make_session_factory(make_engine(settings.database_url)),
        provider=provider or build_provider(settings),
        queue=queue or build_queue(settings),
    )
    return _current


def current() -> Runtime:
    """The runtime configured for this process."""
    if _current is None:
        raise RuntimeError("dispatch runtime not configured: start jobs through worker.py")
    return _current
