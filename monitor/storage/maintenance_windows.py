"""The one maintenance query the engine needs: which window in progress covers a component."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import maintenance_components, maintenances


async def active_window_for(*, session: AsyncSession, component_id: str) -> tuple[int, str] | None:
    """Return (id, English name) of the oldest window in progress covering the component."""
    row = (
        await session.execute(
            select(maintenances.c.id, maintenances.c.name_en)
            .join(
                maintenance_components,
                maintenance_components.c.maintenance_id == maintenances.c.id,
            )
            .where(
                maintenances.c.status == "in_progress",
                maintenance_components.c.component_id == component_id,
            )
            .order_by(maintenances.c.id)
            .limit(1)
        )
    ).one_or_none()
    return None if row is None else (int(row.id), str(row.name_en))
