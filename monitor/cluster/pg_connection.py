"""Dedicated PostgreSQL connections outside the pool (the leader lock, the change feed's LISTEN).

Both live on one session for as long as the process runs, so they are plain asyncpg
connections, named in pg_stat_activity so an operator (or a drill) can tell them apart.
"""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

CONNECT_TIMEOUT = 10.0
"""Seconds one connection attempt may take before it counts as failed."""

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,
    asyncpg.PostgresError,  # e.g. "the database system is starting up"
    asyncpg.InterfaceError,  # e.g. the connection closed in the middle of an operation
)
"""What opening or using a dedicated connection raises when PostgreSQL is away."""


def asyncpg_dsn(url: str) -> str:
    """Turn a SQLAlchemy ``postgresql+asyncpg://`` URL into a DSN asyncpg accepts."""
    # The password must be rendered: this string connects, it is never logged.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def open_named(dsn: str, application_name: str) -> Any:
    """Open a plain asyncpg connection shown as ``application_name`` in pg_stat_activity."""
    return await asyncpg.connect(
        dsn, timeout=CONNECT_TIMEOUT, server_settings={"application_name": application_name}
    )
