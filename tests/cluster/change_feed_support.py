"""What the change feed tests share: a recording on_change, a running feed, and a writer."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from prometheus_client import CollectorRegistry

from monitor.cluster.announce import announce
from monitor.cluster.change_feed import ChangeFeed
from monitor.cluster.listen_connection import (
    APPLICATION_NAME,
    ListenerConnection,
    asyncpg_dsn,
    connect_listener,
)
from monitor.storage.database import Database
from monitor.storage.timeline import append_event

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 10.0  # the most any expected call may take; a passing test returns as soon as it comes


class Recorder:
    """An on_change that notes each call in the feed's journal and counts them."""

    def __init__(self, journal: list[str]) -> None:
        self.calls = 0
        self._journal = journal
        self._condition = asyncio.Condition()

    async def __call__(self) -> None:
        async with self._condition:
            self.calls += 1
            self._journal.append(CALL)
            self._condition.notify_all()

    async def wait_for_calls(self, count: int, within: float = WAIT_S) -> None:
        """Return once on_change was called ``count`` times in all; fail after ``within`` s."""
        async with asyncio.timeout(within), self._condition:
            await self._condition.wait_for(lambda: self.calls >= count)


CALL = "call"
LISTENING = "listening"
NOTIFIED = "notified:"


@dataclass
class RunningFeed:
    """A started ChangeFeed with its recorder, metrics, and the journal of what happened.

    The journal holds, in order: ``listening`` each time the feed's LISTEN took effect,
    ``notified:<payload>`` for each notification it received, ``call`` for each on_change.
    """

    feed: ChangeFeed
    recorder: Recorder
    registry: CollectorRegistry
    journal: list[str] = field(default_factory=list)

    def metric(self, name: str) -> float:
        """The value of one of the feed's counters (``..._total``)."""
        value = self.registry.get_sample_value(f"exwatch_change_feed_{name}_total")
        assert value is not None, name
        return value

    def payloads(self) -> list[str]:
        """Every notification payload received so far, in order."""
        return [
            entry.removeprefix(NOTIFIED) for entry in self.journal if entry.startswith(NOTIFIED)
        ]

    async def listening(self, times: int = 1) -> None:
        """Return once the feed's LISTEN took effect ``times`` times (reconnects included)."""
        await until(lambda: self.journal.count(LISTENING) >= times)

    async def called_after(self, kind: str) -> None:
        """Return once on_change was called after the latest journal entry starting with ``kind``."""

        def called() -> bool:
            marks = [i for i, entry in enumerate(self.journal) if entry.startswith(kind)]
            return bool(marks) and CALL in self.journal[marks[-1] + 1 :]

        await until(called)


@asynccontextmanager
async def running_feed(database: Database, **options: Any) -> AsyncIterator[RunningFeed]:
    """Start a ChangeFeed on ``database`` whose real connections keep the journal; stop it after."""
    journal: list[str] = []
    recorder = Recorder(journal)
    registry = CollectorRegistry()
    options.setdefault("connect", journaling_connect(journal))
    feed = ChangeFeed(database, recorder, registry=registry, **options)
    feed.start()
    try:
        yield RunningFeed(feed, recorder, registry, journal)
    finally:
        await feed.stop()


async def append(database: Database, *, announced: bool, kind: str = "test.change") -> int:
    """Commit one timeline event, announced or not; return its id."""
    async with database.transaction() as session:
        event_id = await append_event(session=session, at=datetime.now(UTC), kind=kind)
        if announced:
            await announce(session)
    return event_id


async def listener_pids(url: str) -> list[int]:
    """The server pids of the change feed connections to this test's database."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
    finally:
        await connection.close()
    return [int(row["pid"]) for row in rows]


async def admin_execute(url: str, query: str, *args: object) -> Any:
    """Run one statement on a connection of the test's own (not the feed's, not exwatch's)."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


async def until(check: Callable[[], bool | Awaitable[bool]], within: float = WAIT_S) -> None:
    """Return once ``check()`` is true (it may be async); fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            outcome = check()
            if await outcome if inspect.isawaitable(outcome) else outcome:
                return
            await asyncio.sleep(0.02)


class JournalingConnection:
    """A real listener connection that notes LISTEN and each payload before the feed sees it."""

    def __init__(self, connection: ListenerConnection, journal: list[str]) -> None:
        self._connection = connection
        self._journal = journal

    async def add_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        """LISTEN through the real connection; note each payload, then hand it on."""

        def noted(_connection: object, pid: int, channel: str, payload: str) -> None:
            self._journal.append(NOTIFIED + payload)
            callback(self, pid, channel, payload)

        await self._connection.add_listener(channel, noted)
        self._journal.append(LISTENING)

    def add_termination_listener(self, callback: Callable[..., Any]) -> None:
        """Report the end of the real connection as the end of this one."""
        self._connection.add_termination_listener(lambda _connection: callback(self))

    async def execute(self, query: str, *args: Any) -> str:
        """Run ``query`` on the real connection."""
        return await self._connection.execute(query, *args)

    async def close(self) -> None:
        """Close the real connection."""
        await self._connection.close()

    def terminate(self) -> None:
        """Terminate the real connection."""
        self._connection.terminate()


def journaling_connect(journal: list[str]) -> Callable[[str], Awaitable[ListenerConnection]]:
    """The production connect factory, its connections keeping ``journal``."""

    async def connect(dsn: str) -> ListenerConnection:
        return JournalingConnection(await connect_listener(dsn), journal)

    return connect
