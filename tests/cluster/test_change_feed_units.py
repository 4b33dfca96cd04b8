"""The change feed's parts without a server: payloads, the DSN, and watching a fake connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from monitor.cluster.change_feed import announced_id
from monitor.cluster.listen_connection import ListenerConnection, asyncpg_dsn
from monitor.storage.database import Database
from tests.cluster.change_feed_support import running_feed, until

NOWHERE = "postgresql+asyncpg://exwatch@127.0.0.1:9/nowhere"  # discard port: nothing answers


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ('{"id": 42}', 42),
        ('{"id": null}', None),
        ("", None),
        ("{not json", None),
        ("[1, 2]", None),
        ('{"id": "42"}', None),
        ('{"id": true}', None),
        ('{"id": 1.5}', None),
        ("[" * 100_000, None),
    ],
)
def test_a_payload_names_an_id_or_nothing_and_never_raises(
    payload: str, expected: int | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="monitor.cluster.change_feed")
    assert announced_id(payload) == expected
    assert all(r.levelno == logging.DEBUG and not r.exc_info for r in caplog.records)


def test_the_sqlalchemy_url_becomes_an_asyncpg_dsn_with_its_password() -> None:
    url = "postgresql+asyncpg://exwatch:p%40ss@db.internal:6432/exwatch?ssl=require"
    assert asyncpg_dsn(url) == "postgresql://exwatch:p%40ss@db.internal:6432/exwatch?ssl=require"


class FakeConnection:
    """A listener connection that is silently dead once ``dead`` is set (a cut network)."""

    def __init__(self) -> None:
        self.dead = False
        self.closed = False
        self.channels: list[str] = []

    async def add_listener(self, channel: str, _callback: Callable[..., Any]) -> None:
        self.channels.append(channel)

    def add_termination_listener(self, _callback: Callable[..., Any]) -> None:
        pass  # a cut network closes nothing: the feed has to ask

    async def execute(self, _query: str, *_args: Any) -> str:
        if self.dead:
            raise ConnectionResetError("the peer is gone")
        return "SELECT 1"

    async def close(self) -> None:
        self.closed = True

    def terminate(self) -> None:
        self.closed = True


class FakeServer:
    """Hands out fake connections; the first ``refusals`` attempts are refused."""

    def __init__(self, refusals: int = 0) -> None:
        self.refusals = refusals
        self.attempts = 0
        self.connections: list[FakeConnection] = []

    async def connect(self, _dsn: str) -> ListenerConnection:
        self.attempts += 1
        if self.attempts <= self.refusals:
            raise ConnectionRefusedError("not yet")
        self.connections.append(FakeConnection())
        return self.connections[-1]


async def test_a_silently_dead_connection_is_found_by_the_check_and_replaced() -> None:
    server = FakeServer()
    database = Database(NOWHERE)
    try:
        async with running_feed(database, catch_up_every=0.05, connect=server.connect) as running:
            await until(lambda: len(server.connections) == 1)
            server.connections[0].dead = True
            await until(lambda: len(server.connections) == 2)
            assert server.connections[0].closed
            assert server.connections[1].channels == ["exwatch_changes"]
            await until(lambda: running.metric("reconnects") == 1)
            await running.recorder.wait_for_calls(2)  # after the first connect and the second
        assert server.connections[1].closed  # stop closed the one in use
    finally:
        await database.close()


async def test_a_refused_connection_is_retried_with_backoff_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.cluster.change_feed")
    server = FakeServer(refusals=2)
    database = Database(NOWHERE)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with running_feed(database, catch_up_every=60, connect=server.connect) as running:
            await running.recorder.wait_for_calls(1)
            waited = loop.time() - started
        assert server.attempts == 3
        assert 0.5 + 1.0 <= waited < 5  # 0.5 s, then 1 s, between the three attempts
    finally:
        await database.close()
    messages = [r.getMessage() for r in caplog.records if "LISTEN" in r.getMessage()]
    assert len([m for m in messages if "cannot LISTEN yet" in m]) == 1
