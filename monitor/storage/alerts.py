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
    incident_id: int | None = None
    source: str = "check"
    flapping: bool = False
    episode: str | None = None
    started_at: datetime | None = None


async def open_alert(
    *,
    session: AsyncSession,
    fingerprint: str,
    check_id: str | None,
    component_id: str,
    failure_status: ComponentStatus,
    summary: str,
    at: datetime,
    source: str = "check",
    labels: dict[str, str] | None = None,
    episode: str | None = None,
    muted_reason: str | None = None,
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
            source=source,
            labels=labels,
            episode=episode,
            muted_reason=muted_reason,
        )
        .returning(alerts.c.id)
    )
    return AlertRow(
        int(result.scalar_one()),
        fingerprint,
        check_id,
        component_id,
        failure_status,
        summary,
        source=source,
        episode=episode,
        started_at=at,
    )


async def alert_by_episode(
    *, session: AsyncSession, fingerprint: str, episode: str
) -> tuple[AlertRow, str] | None:
    """Return the alert of one firing episode (any status) and its status, if seen before."""
    row = (
        await session.execute(
            select(alerts).where(alerts.c.fingerprint == fingerprint, alerts.c.episode == episode)
        )
    ).one_or_none()
    return None if row is None else (_alert_row(row), str(row.status))


async def record_ended_episode(
    *,
    session: AsyncSession,
    fingerprint: str,
    episode: str,
    component_id: str,
    failure_status: ComponentStatus,
    summary: str,
    at: datetime,
) -> None:
    """Store an episode whose resolve arrived before (or without) its firing, as ended."""
    await session.execute(
        insert(alerts).values(
            fingerprint=fingerprint, check_id=None, component_id=component_id,
            status="resolved", failure_status=str(failure_status),
            summary=f"{summary} (resolved before its firing arrived)", started_at=at,
            resolved_at=at, source="alertmanager", episode=episode,
        )
    )  # fmt: skip


async def mark_flapping(*, session: AsyncSession, alert_id: int) -> None:
    """Record that an alert is flapping (it stays open until it settles)."""
    await session.execute(update(alerts).where(alerts.c.id == alert_id).values(flapping=True))


async def flapping_alerts(*, session: AsyncSession) -> list[AlertRow]:
    """Return every firing alert held open because it flaps."""
    rows = await session.execute(
        select(alerts).where(alerts.c.status == "firing", alerts.c.flapping.is_(True))
    )
    return [_alert_row(row) for row in rows]


async def alerts_of_incident(*, session: AsyncSession, incident_id: int) -> list[AlertRow]:
    """Return every alert linked to an incident, oldest first."""
    rows = await session.execute(
        select(alerts).where(alerts.c.incident_id == incident_id).order_by(alerts.c.id)
    )
    return [_alert_row(row) for row in rows]


async def firing_alerts(
    *, session: AsyncSession, source: str | None = None, incident_id: int | None = None
) -> list[AlertRow]:
    """Return every firing alert, optionally of one source or one incident."""
    query = select(alerts).where(alerts.c.status == "firing")
    if incident_id is not None:
        query = query.where(alerts.c.incident_id == incident_id)
    if source is not None:
        query = query.where(alerts.c.source == source)
    return [_alert_row(row) for row in await session.execute(query.order_by(alerts.c.id))]


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
    """Return the failure statuses of every alert firing on a component.

    User reports are left out: unverified, they open a minor incident but never set a status.
    """
    rows = await session.execute(
        select(alerts.c.failure_status).where(
            alerts.c.component_id == component_id,
            alerts.c.status == "firing",
            alerts.c.source != "user_reports",
        )
    )
    return [ComponentStatus(value) for value in rows.scalars()]


async def link_alert_to_incident(*, session: AsyncSession, alert_id: int, incident_id: int) -> None:
    """Record which incident an alert belongs to."""
    await session.execute(
        update(alerts).where(alerts.c.id == alert_id).values(incident_id=incident_id)
    )


async def link_unlinked_alerts(
    *, session: AsyncSession, component_id: str, incident_id: int
) -> None:
    """Link a component's firing alerts that belong to no incident yet (e.g. held back by
    maintenance) to ``incident_id``."""
    await session.execute(
        update(alerts)
        .where(
            alerts.c.component_id == component_id,
            alerts.c.status == "firing",
            alerts.c.incident_id.is_(None),
        )
        .values(incident_id=incident_id)
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
        incident_id=row.incident_id,
        source=row.source,
        flapping=bool(row.flapping),
        episode=row.episode,
        started_at=row.started_at,
    )
