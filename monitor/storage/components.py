"""Component status and the facts the severity policy needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import ComponentStatus, ImpactClass
from monitor.severity import ComponentFacts
from monitor.storage.tables import components


@dataclass(frozen=True, slots=True)
class ComponentRow:
    """A component's public status, what monitoring sees, and any responder override."""

    id: str
    status: ComponentStatus
    alert_status: ComponentStatus
    override_status: ComponentStatus | None
    override_reason: str | None = None


async def component_row(*, session: AsyncSession, component_id: str) -> ComponentRow:
    """Return one component's statuses."""
    row = (await session.execute(select(components).where(components.c.id == component_id))).one()
    return ComponentRow(
        row.id,
        ComponentStatus(row.status),
        ComponentStatus(row.alert_status),
        None if row.override_status is None else ComponentStatus(row.override_status),
        row.override_reason,
    )


async def set_alert_status(
    *, session: AsyncSession, component_id: str, status: ComponentStatus
) -> None:
    """Store what monitoring sees of a component (the worst of its firing alerts)."""
    await session.execute(
        update(components).where(components.c.id == component_id).values(alert_status=str(status))
    )


async def set_override(
    *,
    session: AsyncSession,
    component_id: str,
    status: ComponentStatus | None,
    message: dict[str, str] | None,
    reason: str | None,
) -> None:
    """Set (or with ``status=None`` clear) a responder's override of a component's status."""
    await session.execute(
        update(components)
        .where(components.c.id == component_id)
        .values(
            override_status=None if status is None else str(status),
            override_message_ja=None if message is None else message.get("ja"),
            override_message_en=None if message is None else message.get("en"),
            override_reason=reason,
        )
    )


async def overrides_with_reason(*, session: AsyncSession, reason: str) -> list[str]:
    """Return the ids of components whose override was set for ``reason`` (e.g. "incident #3")."""
    rows = await session.execute(
        select(components.c.id).where(components.c.override_reason == reason)
    )
    return list(rows.scalars())


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
    """Return every active component's facts for the severity policy (what monitoring sees), by id."""
    rows = await session.execute(select(components).where(components.c.active.is_(True)))
    return {
        row.id: ComponentFacts(
            id=row.id,
            name=row.name_en,
            impact_class=ImpactClass(row.impact_class),
            group_id=row.group_id,
            status=ComponentStatus(row.override_status or row.alert_status),
        )
        for row in rows
    }
