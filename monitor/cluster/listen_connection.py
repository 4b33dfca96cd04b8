"""The dedicated PostgreSQL connection a change feed LISTENs on: its shape and factory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from monitor.cluster.pg_connection import (
    CONNECT_TIMEOUT,
    CONNECTION_ERRORS,
    asyncpg_dsn,
    open_named,
)

APPLICATION_NAME = "exwatch-change-feed"
"""Shown in pg_stat_activity, so an operator (or a drill) can find the listener connections."""


class ListenerConnection(Protocol):
    """The part of asyncpg's Connection a change feed uses."""

    async def add_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        """LISTEN on ``channel``; ``callback(connection, pid, channel, payload)`` per NOTIFY."""

    def add_termination_listener(self, callback: Callable[..., Any]) -> None:
        """Have ``callback(connection)`` called when the connection closes, for any reason."""

    async def execute(self, query: str, *args: Any) -> str:
        """Run ``query``."""

    async def close(self) -> None:
        """Close gracefully."""

    def terminate(self) -> None:
        """Close at once, without waiting for the server."""


Connect = Callable[[str], Awaitable[ListenerConnection]]
"""Opens a listener connection to an asyncpg DSN."""


async def connect_listener(dsn: str) -> ListenerConnection:
    """Open a plain asyncpg connection named ``exwatch-change-feed`` in pg_stat_activity."""
    connection: ListenerConnection = await open_named(dsn, APPLICATION_NAME)
    return connection


__all__ = ["CONNECTION_ERRORS", "CONNECT_TIMEOUT", "Connect", "ListenerConnection", "asyncpg_dsn"]
