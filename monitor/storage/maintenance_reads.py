"""Bounded reads of maintenance windows for the console: the next ones, and the recently ended.

``monitor.storage.maintenance`` lists every window of a status; a console page shows a screenful,
so these queries stop at ``limit`` and say how many there are in all.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.maintenance import MaintenanceRow
from monitor.storage.tables import maintenance_components, maintenances

ENDED = ("completed", "cancelled")
_COLUMNS = [maintenances.c[f.name] for f in fields(MaintenanceRow) if f.name != "components"]


async def next_windows(
    *, session: AsyncSession, status: str, limit: int
) -> tuple[list[MaintenanceRow], int]:
    """The first ``limit`` windows of ``status`` by start, and how many there are in all."""
    query = (
        select(*_COLUMNS)
        .where(maintenances.c.status == status)
        .order_by(maintenances.c.scheduled_start, maintenances.c.id)
        .limit(limit)
    )
    total = await session.scalar(
        select(func.count()).select_from(maintenances).where(maintenances.c.status == status)
    )
    return await _windows(session, query), int(total or 0)


async def recent_windows(
    *, session: AsyncSession, since: datetime, limit: int
) -> list[MaintenanceRow]:
    """Windows completed or cancelled after ``since``, the latest change first."""
    query = (
        select(*_COLUMNS)
        .where(maintenances.c.status.in_(ENDED), maintenances.c.updated_at > since)
        .order_by(maintenances.c.updated_at.desc(), maintenances.c.id.desc())
        .limit(limit)
    )
    return await _windows(session, query)


async def _windows(
    session: AsyncSession, query: Select[tuple[object, ...]]
) -> list[MaintenanceRow]:
    rows = (await session.execute(query)).mappings().all()
    covered = await _components(session, [int(row["id"]) for row in rows])
    return [MaintenanceRow(**row, components=covered.get(int(row["id"]), ())) for row in rows]


async def _components(session: AsyncSession, ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    if not ids:
        return {}
    query = (
        select(maintenance_components.c.maintenance_id, maintenance_components.c.component_id)
        .where(maintenance_components.c.maintenance_id.in_(list(ids)))
        .order_by(maintenance_components.c.component_id)
    )
    found: dict[int, tuple[str, ...]] = {}
    for maintenance_id, component_id in await session.execute(query):
        found[int(maintenance_id)] = (*found.get(int(maintenance_id), ()), str(component_id))
    return found
