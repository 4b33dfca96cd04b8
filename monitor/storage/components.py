"""Component status and the facts the severity policy needs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import ComponentStatus, ImpactClass
from monitor.severity import ComponentFacts
from monitor.storage.tables import components


async def component_status(*, session: AsyncSession, component_id: str) -> ComponentStatus:
    """Return a component's current public status."""
    value = (
        await session.execute(select(components.c.status).where(components.c.id == component_id))
    ).scalar_one()
    return ComponentStatus(value)


async def set_component_status(
    *, session: AsyncSession, component_id: str, status: ComponentStatus, at: datetime
) -> None:
    """Store a component's new status."""
    await session.execute(
        update(components)
        .where(components.c.id == component_id)
        .values(status=str(status), updated_at=at)
    )


async def component_facts(*, session: AsyncSession) -> dict[str, ComponentFacts]:
    """Return every active component's facts for the severity policy, by id."""
    rows = await session.execute(select(components).where(components.c.active.is_(True)))
    return {
        row.id: ComponentFacts(
            id=row.id,
            name=row.name_en,
            impact_class=ImpactClass(row.impact_class),
            group_id=row.group_id,
            status=ComponentStatus(row.status),
        )
        for row in rows
    }
