"""The change feed on PostgreSQL: announced commits reach another process's feed, and only those."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from monitor.cluster.announce import Announcer, announce
from monitor.storage.database import Database
from monitor.storage.timeline import append_event
from tests.cluster.change_feed_support import (
    LISTENING,
    NOTIFIED,
    ROOT,
    admin_execute,
    append,
    listener_pids,
    running_feed,
    until,
)

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

QUIET = 60.0  # a catch-up period no test waits for: what arrives came by NOTIFY
SUBPROCESS_WAIT_S = 60.0


@pytest.fixture
async def writer(database: Database, database_url: str) -> AsyncIterator[Database]:
    """A second Database on the same PostgreSQL: its own engine and pool, as another process."""
    other = Database(database_url)
    try:
        yield other
    finally:
        await other.close()


async def test_an_announced_commit_reaches_a_feed_on_another_database(
    database: Database, writer: Database
) -> None:
    async with running_feed(database, catch_up_every=QUIET) as running:
        await running.listening()
        event_id = await append(writer, announced=True)
        await running.called_after(NOTIFIED)
        assert [json.loads(p) for p in running.payloads()] == [{"id": event_id}]
        assert running.metric("notifications") == 1
        assert running.metric("catch_ups") == 0


async def test_a_rolled_back_announce_is_never_delivered(
    database: Database, writer: Database
) -> None:
    async with running_feed(database, catch_up_every=QUIET) as running:
        await running.listening()
        with pytest.raises(RuntimeError, match="abandon"):
            async with writer.transaction() as session:
                await append_event(session=session, at=datetime.now(UTC), kind="test.undone")
                await announce(session)
                raise RuntimeError("abandon the transaction")
        marker = await append(writer, announced=True)
        # Notifications arrive in commit order: once the marker's is in, an earlier one would
        # have been too.
        await until(lambda: bool(running.payloads()))
        assert [json.loads(p) for p in running.payloads()] == [{"id": marker}]
        assert running.metric("notifications") == 1


async def test_the_feed_listens_again_after_its_connection_is_terminated(
    database: Database, writer: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.cluster.change_feed")
    async with running_feed(database, catch_up_every=QUIET) as running:
        await running.listening()
        [old_pid] = await listener_pids(database_url)
        assert await admin_execute(database_url, "SELECT pg_terminate_backend($1)", old_pid)

        await running.listening(times=2)
        await running.called_after(LISTENING)  # on_change after the reconnect
        assert running.metric("reconnects") == 1

        async def only_a_new_listener() -> bool:
            pids = await listener_pids(database_url)
            return len(pids) == 1 and old_pid not in pids

        await until(only_a_new_listener)  # the old backend may take a moment to leave the list

        await append(writer, announced=True)
        await running.called_after(NOTIFIED)
        assert running.metric("notifications") == 1
    lost = [r for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(lost) == 1  # once per outage
    assert not [r for r in caplog.records if r.exc_info]


async def test_a_change_committed_by_another_process_reaches_the_feed(
    database: Database, database_url: str
) -> None:
    async with running_feed(database, catch_up_every=QUIET) as running:
        await running.listening()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.cluster.announce_process",
            database_url,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), SUBPROCESS_WAIT_S)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, err.decode()
        await running.called_after(NOTIFIED)
        assert [json.loads(p) for p in running.payloads()] == [{"id": int(out)}]


async def test_a_bad_payload_still_means_a_change_and_logs_no_traceback(
    database: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="monitor.cluster.change_feed")
    async with running_feed(database, catch_up_every=QUIET) as running:
        await running.listening()
        await admin_execute(database_url, "SELECT pg_notify('exwatch_changes', '{not json')")
        await running.called_after(NOTIFIED)
    assert any("not JSON" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


async def test_the_announcer_notifies_from_outside_a_transaction(
    database: Database, writer: Database
) -> None:
    async with running_feed(database, catch_up_every=QUIET) as running:
        await running.listening()
        newest = await append(writer, announced=False)
        await Announcer(writer)()
        await running.called_after(NOTIFIED)
        assert [json.loads(p) for p in running.payloads()] == [{"id": newest}]


async def test_stop_closes_the_listener_connection_and_ends_every_task(
    database: Database, database_url: str
) -> None:
    async with running_feed(database, catch_up_every=QUIET) as running:
        await running.listening()
        assert len(await listener_pids(database_url)) == 1
    assert await listener_pids(database_url) == []
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("change-feed")]
