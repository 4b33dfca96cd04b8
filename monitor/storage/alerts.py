"""Alerts: one row per firing episode of a check, fingerprinted so it is never opened twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import ComponentStatus
from monitor.storage.tables import alerts


@dataclass(frozen=True, slots=True)
class AlertRow:
    """A firing alert."""

    id: int
    fingerprint: str
    check_id: str | None
    component_id: str
    failure_status: ComponentStatus
    summary: str


async def open_alert(
    *,
    session: AsyncSession,
    fingerprint: str,
    check_id: str | None,
    component_id: str,
    failure_status: ComponentStatus,
    summary: str,
    at: datetime,
) -> AlertRow:
    """Return the firing alert for ``fingerprint``, opening it if none is firing."""
    existing = await firing_alert(session=session, fingerprint=fingerprint)
    if existing is not None:
        return existing
    result = await session.execute(
        insert(alerts)
        .values(
            fingerprint=fingerprint,
            check_id=check_id,
            component_id=component_id,
            status="firing",
            failure_status=str(failure_status),
            summary=summary,
            started_at=at,
        )
        .returning(alerts.c.id)
    )
    return AlertRow(
        int(result.scalar_one()), fingerprint, check_id, component_id, failure_status, summary
    )


async def firing_alert(*, session: AsyncSession, fingerprint: str) -> AlertRow | None:
    """Return the firing alert with this fingerprint, if any."""
    row = (
        await session.execute(
            select(alerts).where(alerts.c.fingerprint == fingerprint, alerts.c.status == "firing")
        )
    ).one_or_none()
    return None if row is None else _alert_row(row)


async def resolve_alert(*, session: AsyncSession, alert_id: int, at: datetime) -> None:
    """Mark an alert resolved."""
    await session.execute(
        update(alerts).where(alerts.c.id == alert_id).values(status="resolved", resolved_at=at)
    )


async def firing_statuses(*, session: AsyncSession, component_id: str) -> list[ComponentStatus]:
    """Return the failure statuses of every alert firing on a component."""
    rows = await session.execute(
        select(alerts.c.failure_status).where(
            alerts.c.component_id == component_id, alerts.c.status == "firing"
        )
    )
    return [ComponentStatus(value) for value in rows.scalars()]


async def link_alert_to_incident(*, session: AsyncSession, alert_id: int, incident_id: int) -> None:
    """Record which incident an alert belongs to."""
    await session.execute(
        update(alerts).where(alerts.c.id == alert_id).values(incident_id=incident_id)
    )


async def firing_check_alerts(*, session: AsyncSession) -> list[AlertRow]:
    """Return every firing alert raised by a check."""
    rows = await session.execute(
        select(alerts).where(alerts.c.status == "firing", alerts.c.check_id.is_not(None))
    )
    return [_alert_row(row) for row in rows]


def _alert_row(row: Any) -> AlertRow:
    return AlertRow(
        row.id,
        row.fingerprint,
        row.check_id,
        row.component_id,
        ComponentStatus(row.failure_status),
        row.summary,
    )
