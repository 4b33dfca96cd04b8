"""Engine writes from several processes: one at a time, and never from a deposed leader.

Every engine transaction starts with the guard. On PostgreSQL it first takes a transaction
advisory lock, so an api replica's acknowledgement and the leader's alert change never
interleave (in one process the engine's asyncio lock did this; across processes only the
database can). The leader's guard then checks its epoch (``monitor.cluster.fencing``): a
leader paused past its lease finds a newer epoch and its write is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.engine import WriteGuard

ENGINE_WRITES_KEY = 0x6578_7701
"""The advisory lock every engine transaction takes on PostgreSQL ("exw" and 1)."""

EpochCheck = Callable[[AsyncSession], Awaitable[None]]


async def serialize_engine_writes(session: AsyncSession) -> None:
    """Wait for the other processes' engine transactions (a no-op on SQLite: one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": ENGINE_WRITES_KEY}
        )


def leader_guard(check_epoch: EpochCheck) -> WriteGuard:
    """The guard of an engine process: serialized, and refused once deposed."""

    async def guard(session: AsyncSession) -> None:
        await serialize_engine_writes(session)
        await check_epoch(session)

    return guard
