"""Fixtures: a started engine with maintenance, on SQLite and PostgreSQL, with a fake clock."""

from __future__ import annotations

import pytest

from monitor.storage.database import Database
from tests.maintenance.support import World, start_world
from tests.support import FakeClock


@pytest.fixture
async def world(database: Database, clock: FakeClock) -> World:
    """The services of one process with maintenance, on a migrated database."""
    return await start_world(database, clock)
