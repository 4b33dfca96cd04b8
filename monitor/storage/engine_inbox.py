"""Queries of the engine inbox: agent results waiting for the engine leader (``--role api``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import engine_inbox


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One agent result as it waits in the inbox."""

    id: int
    region: str
    check_id: str
    observed_at: datetime
    result: dict[str, Any]


async def enqueue(
    *, session: AsyncSession, region: str, items: Sequence[tuple[str, datetime, dict[str, Any]]],
    received_at: datetime,
) -> None:  # fmt: skip
    """Add results (check id, observed at, result) of ``region``; one already waiting is kept."""
    if not items:
        return
    rows = [
        {"region": region, "check_id": check_id, "observed_at": at, "result": result,
         "received_at": received_at}
        for check_id, at, result in items
    ]  # fmt: skip
    # An agent retries a batch whose answer it never saw: the same result must not count twice.
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(dialect_insert(engine_inbox).on_conflict_do_nothing(), rows)


async def waiting(*, session: AsyncSession, limit: int) -> list[InboxItem]:
    """The oldest ``limit`` results waiting, in the order they arrived."""
    query = select(engine_inbox).order_by(engine_inbox.c.id).limit(limit)
    rows = (await session.execute(query)).mappings()
    return [
        InboxItem(row["id"], row["region"], row["check_id"], row["observed_at"], row["result"])
        for row in rows
    ]


async def remove(*, session: AsyncSession, ids: Sequence[int]) -> None:
    """Delete applied results."""
    if ids:
        await session.execute(delete(engine_inbox).where(engine_inbox.c.id.in_(ids)))


async def waiting_count(*, session: AsyncSession) -> int:
    """How many results wait (for /metrics and the health answer)."""
    return int((await session.execute(select(func.count()).select_from(engine_inbox))).scalar_one())
