"""Storing when each heartbeat check last received a push."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import heartbeats


async def record_push(*, session: AsyncSession, check_id: str, at: datetime) -> None:
    """Store a push for ``check_id``."""
    result = await session.execute(
        update(heartbeats)
        .where(heartbeats.c.check_id == check_id)
        .values(last_push_at=at, pushes=heartbeats.c.pushes + 1)
    )
    if not getattr(result, "rowcount", 0):
        await session.execute(
            insert(heartbeats).values(check_id=check_id, last_push_at=at, pushes=1)
        )


async def last_pushes(*, session: AsyncSession) -> dict[str, datetime]:
    """Return the newest push of every heartbeat check, by check id."""
    rows = await session.execute(select(heartbeats.c.check_id, heartbeats.c.last_push_at))
    return {row.check_id: row.last_push_at for row in rows}
