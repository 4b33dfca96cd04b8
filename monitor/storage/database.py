"""The database handle: an async engine and sessions, SQLite in WAL mode or PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from monitor.storage.sqlite_threads import schedule_as_batch

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./exwatch.db"
EVENTS_KEY = "exwatch.appended_events"
"""Where a session keeps the ids of the timeline events appended in its transaction."""

EventPlanner = Callable[[AsyncSession, Sequence[int]], Awaitable[None]]
"""Runs before a commit with the events appended in the transaction (writes their deliveries)."""


class DatabaseUrlError(ValueError):
    """EXWATCH_DATABASE_URL names no database exwatch can use."""


def database_url(env: dict[str, str] | None = None) -> str:
    """Return EXWATCH_DATABASE_URL, or the embedded SQLite default."""
    source = os.environ if env is None else env
    return source.get("EXWATCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def safe_url(url: str) -> str:
    """Return ``url`` with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


class Database:
    """Owns the engine; hands out sessions in a transaction."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = _create_engine(url, **engine_options)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._planner: EventPlanner | None = None

    def plan_events_with(self, planner: EventPlanner | None) -> None:
        """Have ``planner`` see every transaction's new timeline events before it commits.

        This is the transactional outbox: the deliveries an event causes commit with it or
        not at all.
        """
        self._planner = planner

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Yield a session in a transaction that commits on success and rolls back on error."""
        async with self._sessions.begin() as session:
            yield session
            events = session.info.pop(EVENTS_KEY, None)
            if events and self._planner is not None:
                await self._planner(session, events)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """Yield a Core connection in a transaction, for writes that make no timeline events.

        No ORM session, so nothing is planned: the dispatcher records outcomes this way, where
        the session's bookkeeping cost more than the statement.
        """
        async with self.engine.begin() as connection:
            yield connection

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _create_engine(url: str, **options: Any) -> AsyncEngine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError("EXWATCH_DATABASE_URL is not a database URL") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseUrlError(
            f"unsupported database {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg"
        )
    if backend == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **options)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the page read while the engine writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    schedule_as_batch(dbapi_connection)
