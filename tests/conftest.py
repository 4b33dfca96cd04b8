"""Fixtures: a migrated database on SQLite and on PostgreSQL, and a fake clock."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.support import FakeClock

POSTGRES_URL = os.environ.get(
    "EXWATCH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _postgres_reason() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it answers."""

    async def ping() -> None:
        connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=3)
        await connection.close()

    try:
        asyncio.run(ping())
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL at {POSTGRES_URL} does not answer: {error}"
    return None


_POSTGRES_PROBLEM = _postgres_reason()


async def _reset_postgres() -> None:
    connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database; PostgreSQL skips locally when absent and fails under CI."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'exwatch.db'}"
    if _POSTGRES_PROBLEM is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(_POSTGRES_PROBLEM)
        pytest.skip(_POSTGRES_PROBLEM)
    await _reset_postgres()
    return POSTGRES_URL


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A freshly migrated database on SQLite and on PostgreSQL."""
    db = Database(database_url)
    await upgrade(db)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test advances it."""
    return FakeClock()
