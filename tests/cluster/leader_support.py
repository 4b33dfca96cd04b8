"""What the leader election tests share: a migrated database, recording callbacks, candidates."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from prometheus_client import CollectorRegistry

from monitor.cluster.leadership import Leadership
from monitor.cluster.listen_connection import asyncpg_dsn
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.postgres import POSTGRES_URL, require_postgres, reset_postgres

WAIT_S = 10.0  # the most any expected event may take; a passing test returns as soon as it comes
POLL_S = 0.01
STOP_S = 20.0  # a stop takes about a lease; this only keeps a broken one from hanging
DSN = asyncpg_dsn(POSTGRES_URL)


@pytest.fixture
async def leader_database() -> AsyncIterator[Database]:
    """A freshly migrated PostgreSQL database (skipped locally when PostgreSQL is absent)."""
    require_postgres()
    await reset_postgres()
    database = Database(POSTGRES_URL)
    await upgrade(database)
    try:
        yield database
    finally:
        await database.close()


class Recorder:
    """on_elected and on_deposed that remember what they were told, and when (monotonic)."""

    def __init__(self) -> None:
        self.elected: list[tuple[int, float]] = []
        self.deposed: list[tuple[str, float]] = []

    async def on_elected(self, epoch: int) -> None:
        """Record an election."""
        self.elected.append((epoch, time.monotonic()))

    async def on_deposed(self, reason: str) -> None:
        """Record the end of a leadership."""
        self.deposed.append((reason, time.monotonic()))


@dataclass
class Candidate:
    """A running Leadership with its recorder and metrics registry."""

    name: str
    leadership: Leadership
    recorder: Recorder
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    @property
    def epochs(self) -> list[int]:
        """The epochs it was elected with, in order."""
        return [epoch for epoch, _ in self.recorder.elected]


MakeCandidate = Callable[..., Candidate]


@pytest.fixture
async def candidates(leader_database: Database) -> AsyncIterator[MakeCandidate]:
    """Start candidates with ``make(name, lease=..., **options)``; all are stopped afterwards."""
    made: list[Candidate] = []

    def make(name: str, lease: float = 0.6, **options: Any) -> Candidate:
        recorder = Recorder()
        registry = CollectorRegistry()
        leadership = Leadership(
            POSTGRES_URL,
            name,
            on_elected=recorder.on_elected,
            on_deposed=recorder.on_deposed,
            lease=lease,
            registry=registry,
            **options,
        )
        candidate = Candidate(name, leadership, recorder, registry)
        made.append(candidate)
        leadership.start()
        return candidate

    try:
        yield make
    finally:
        for candidate in made:
            await asyncio.wait_for(candidate.leadership.stop(), STOP_S)


async def eventually(predicate: Callable[[], bool], within: float = WAIT_S) -> float:
    """Wait until ``predicate()`` holds; return the seconds it took; fail after ``within``."""
    started = time.monotonic()
    for _ in range(int(within / POLL_S) + 1):
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            break
        await asyncio.sleep(POLL_S)
    raise AssertionError(f"still false after {within} s")


async def leader_row() -> asyncpg.Record:
    """The engine_leader row as the database has it now."""
    connection = await asyncpg.connect(DSN, timeout=5)
    try:
        return await connection.fetchrow("SELECT * FROM engine_leader WHERE id = 1")
    finally:
        await connection.close()


async def admin_query(query: str, *args: Any) -> Any:
    """Run ``query`` on a connection of the test's own; return its first value."""
    connection = await asyncpg.connect(DSN, timeout=5)
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()
