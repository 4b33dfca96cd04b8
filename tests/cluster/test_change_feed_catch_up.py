"""The change feed's catch-up, on SQLite and PostgreSQL: unannounced changes are noticed anyway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from monitor.cluster.announce import Announcer
from monitor.cluster.listen_connection import ListenerConnection
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.cluster.change_feed_support import append, running_feed, until

PERIOD = 0.2  # seconds between catch-up reads in these tests
WITHIN_A_PERIOD = PERIOD * 5 + 1  # a generous bound for "by the next read", left once met


async def unreachable(_dsn: str) -> ListenerConnection:
    """A LISTEN connection that never opens: on PostgreSQL, only the catch-up is left."""
    raise ConnectionRefusedError("no LISTEN in the catch-up tests")


async def test_an_event_appended_without_announce_is_noticed_by_the_catch_up(
    database: Database,
) -> None:
    async with running_feed(database, catch_up_every=PERIOD, connect=unreachable) as running:
        await until(lambda: running.metric("catch_up_reads") >= 1)  # the baseline is taken
        await running.recorder.wait_for_calls(1)
        calls = running.recorder.calls
        await append(database, announced=False)
        await running.recorder.wait_for_calls(calls + 1, within=WITHIN_A_PERIOD)
        assert running.metric("catch_ups") == 1
        assert running.metric("notifications") == 0


async def test_quiet_reads_call_nothing_after_the_first_look(database: Database) -> None:
    async with running_feed(database, catch_up_every=0.05, connect=unreachable) as running:
        await until(lambda: running.metric("catch_up_reads") >= 1)
        await running.recorder.wait_for_calls(1)
        calls = running.recorder.calls
        reads = running.metric("catch_up_reads")
        await until(lambda: running.metric("catch_up_reads") >= reads + 3)
        assert running.recorder.calls == calls
        assert running.metric("catch_ups") == 0


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database (only SQLite: the test is about having no LISTEN)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    try:
        await upgrade(database)
        yield database
    finally:
        await database.close()


async def test_on_sqlite_nothing_listens_and_announcing_is_a_no_op(
    sqlite_database: Database,
) -> None:
    async def refuse(_dsn: str) -> ListenerConnection:
        raise AssertionError("a SQLite feed must not LISTEN")

    async with running_feed(sqlite_database, catch_up_every=PERIOD, connect=refuse) as running:
        await running.recorder.wait_for_calls(1)
        await Announcer(sqlite_database)()
        await append(sqlite_database, announced=True)  # inside a transaction: a no-op too
        await running.recorder.wait_for_calls(2, within=WITHIN_A_PERIOD)
        assert running.metric("catch_ups") == 1
        assert running.metric("notifications") == 0
