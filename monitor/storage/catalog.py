"""Keeps the groups, components and checks tables in step with the config file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.config import Config
from monitor.storage.tables import checks, component_groups, components


async def sync_catalog(*, session: AsyncSession, config: Config, now: datetime) -> None:
    """Insert new and update changed groups, components and checks; deactivate removed ones.

    Statuses and alert states are kept, so a restart continues where it stopped.
    """
    group_rows = [
        {"id": g.id, "name_ja": g.names.ja, "name_en": g.names.en, "position": i, "updated_at": now}
        for i, g in enumerate(config.groups)
    ]
    await _upsert(session, component_groups, group_rows, now)
    await _upsert(
        session,
        components,
        [_component_row(c, i, now) for i, c in enumerate(config.components)],
        now,
    )
    check_rows = [
        {"id": c.id, "component_id": c.component, "kind": c.kind, "active": True}
        for c in config.checks
    ]
    await _upsert(session, checks, check_rows, now)
    await _deactivate_missing(session, components, {c.id for c in config.components})
    await _deactivate_missing(session, checks, {c.id for c in config.checks})


def _component_row(component: Any, position: int, now: datetime) -> dict[str, Any]:
    description = component.description
    return {
        "id": component.id,
        "name_ja": component.names.ja,
        "name_en": component.names.en,
        "group_id": component.group,
        "impact_class": str(component.impact_class),
        "position": position,
        "description_ja": description.ja if description else None,
        "description_en": description.en if description else None,
        "active": True,
        "updated_at": now,
    }


async def _upsert(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], now: datetime
) -> None:
    existing = set((await session.execute(select(table.c.id))).scalars())
    for row in rows:
        if row["id"] in existing:
            await session.execute(update(table).where(table.c.id == row["id"]).values(**row))
        else:
            await session.execute(insert(table).values(created_at=now, **row))


async def _deactivate_missing(session: AsyncSession, table: Table, keep: set[str]) -> None:
    await session.execute(update(table).where(table.c.id.not_in(keep)).values(active=False))
