"""The dedicated PostgreSQL connection an engine holds the leader lock on: its shape and factory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from monitor.cluster.pg_connection import CONNECT_TIMEOUT, open_named

APPLICATION_NAME = "exwatch-engine-leader"
"""Shown in pg_stat_activity, so an operator can tell the lock connections apart."""


class LeaderConnection(Protocol):
    """The part of asyncpg's Connection the leader election uses (its ``timeout=`` included)."""

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:  # noqa: ASYNC109
        """Run ``query``; return its status ("UPDATE 1")."""

    async def fetchval(self, query: str, *args: Any, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        """Run ``query``; return the first column of its first row."""

    async def fetch(self, query: str, *args: Any, timeout: float | None = None) -> list[Any]:  # noqa: ASYNC109
        """Run ``query``; return its rows."""

    def get_server_pid(self) -> int:
        """The pid of this connection's backend (pg_backend_pid())."""

    async def close(self, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Close gracefully."""

    def terminate(self) -> None:
        """Close at once, without waiting for the server."""


Connect = Callable[[str], Awaitable[LeaderConnection]]
"""Opens a connection to an asyncpg DSN."""


async def connect_leader(dsn: str) -> LeaderConnection:
    """Open a plain asyncpg connection named ``exwatch-engine-leader`` in pg_stat_activity."""
    connection: LeaderConnection = await open_named(dsn, APPLICATION_NAME)
    return connection


__all__ = ["CONNECT_TIMEOUT", "Connect", "LeaderConnection", "connect_leader"]
