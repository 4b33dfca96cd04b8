"""The dedicated PostgreSQL connection a change feed LISTENs on: its shape, DSN and factory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

APPLICATION_NAME = "exwatch-change-feed"
"""Shown in pg_stat_activity, so an operator (or a drill) can find the listener connections."""

CONNECT_TIMEOUT = 10.0
"""Seconds one connection attempt may take before it counts as failed."""

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,
    asyncpg.PostgresError,  # e.g. "the database system is starting up"
    asyncpg.InterfaceError,  # e.g. the connection closed in the middle of an operation
)
"""What opening or using the listener connection raises when PostgreSQL is away."""


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


def asyncpg_dsn(url: str) -> str:
    """Turn a SQLAlchemy ``postgresql+asyncpg://`` URL into a DSN asyncpg accepts."""
    # The password must be rendered: this string connects, it is never logged.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def connect_listener(dsn: str) -> ListenerConnection:
    """Open a plain asyncpg connection named ``exwatch-change-feed`` in pg_stat_activity."""
    connection: ListenerConnection = await asyncpg.connect(
        dsn,
        timeout=CONNECT_TIMEOUT,
        server_settings={"application_name": APPLICATION_NAME},
    )
    return connection
