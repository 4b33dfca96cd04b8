"""Fixtures: a migrated database on SQLite and on PostgreSQL, and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.postgres import POSTGRES_URL, require_postgres, reset_postgres
from tests.support import FakeClock


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database; PostgreSQL skips locally when absent and fails under CI."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'exwatch.db'}"
    require_postgres()
    await reset_postgres()
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
