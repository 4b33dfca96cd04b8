"""Incidents, the components they affect, and their public updates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import ComponentStatus, IncidentStatus, Severity, worst_status
from monitor.storage.tables import alerts, incident_components, incident_updates, incidents

_OPEN = [s.value for s in IncidentStatus if s != IncidentStatus.RESOLVED]


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """An incident's identity, severity and lifecycle state."""

    id: int
    status: IncidentStatus
    severity: Severity
    severity_reason: str
    origin: str = "auto"
    cause: str = "system"
    started_at: datetime | None = None
    created_at: datetime | None = None
    severity_since: datetime | None = None
    recovered_at: datetime | None = None
    acknowledged_at: datetime | None = None
    first_acknowledged_at: datetime | None = None
    escalation_level: int = 0
    next_page_at: datetime | None = None
    last_reminder_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewIncident:
    """What opening an incident needs."""

    name_ja: str
    name_en: str
    severity: Severity
    severity_reason: str
    started_at: datetime
    origin: str = "auto"
    cause: str = "system"
    report: dict[str, str | None] | None = None  # description, impact_scope, reproduction, …


async def open_incident(*, session: AsyncSession, new: NewIncident, at: datetime) -> IncidentRow:
    """Insert an incident in ``investigating`` and return it."""
    result = await session.execute(
        insert(incidents)
        .values(
            name_ja=new.name_ja,
            name_en=new.name_en,
            status=str(IncidentStatus.INVESTIGATING),
            severity=str(new.severity),
            severity_reason=new.severity_reason,
            cause=new.cause,
            origin=new.origin,
            started_at=new.started_at,
            severity_since=at,
            created_at=at,
            updated_at=at,
            **(new.report or {}),
        )
        .returning(incidents.c.id)
    )
    return await get_incident(session=session, incident_id=int(result.scalar_one()))  # type: ignore[return-value]


async def get_incident(*, session: AsyncSession, incident_id: int) -> IncidentRow | None:
    """Return one incident, or None when there is no such incident."""
    row = (
        await session.execute(select(incidents).where(incidents.c.id == incident_id))
    ).one_or_none()
    return None if row is None else _incident_row(row)


async def open_incidents(*, session: AsyncSession) -> list[IncidentRow]:
    """Return every open incident, oldest first."""
    rows = await session.execute(
        select(incidents).where(incidents.c.status.in_(_OPEN)).order_by(incidents.c.id)
    )
    return [_incident_row(row) for row in rows]


async def update_incident(*, session: AsyncSession, incident_id: int, **values: Any) -> None:
    """Set lifecycle columns of an incident (status, recovered_at, escalation, ack …)."""
    await session.execute(update(incidents).where(incidents.c.id == incident_id).values(**values))


async def recently_resolved_with_alert(
    *, session: AsyncSession, fingerprint: str, since: datetime
) -> IncidentRow | None:
    """Return the newest incident resolved since ``since`` that an alert ``fingerprint`` was in."""
    row = (
        await session.execute(
            select(incidents)
            .join(alerts, alerts.c.incident_id == incidents.c.id)
            .where(
                incidents.c.status == str(IncidentStatus.RESOLVED),
                incidents.c.resolved_at >= since,
                alerts.c.fingerprint == fingerprint,
            )
            .order_by(incidents.c.resolved_at.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else _incident_row(row)


async def open_incident_for(
    *, session: AsyncSession, component_ids: set[str]
) -> IncidentRow | None:
    """Return the oldest open incident affecting any of ``component_ids``."""
    row = (
        await session.execute(
            select(incidents)
            .join(incident_components, incident_components.c.incident_id == incidents.c.id)
            .where(
                incidents.c.status.in_(_OPEN), incident_components.c.component_id.in_(component_ids)
            )
            .order_by(incidents.c.id)
            .limit(1)
        )
    ).one_or_none()
    return None if row is None else _incident_row(row)


async def add_incident_component(
    *,
    session: AsyncSession,
    incident_id: int,
    component_id: str,
    status: ComponentStatus,
    at: datetime,
) -> bool:
    """Add a component to an incident or worsen its recorded worst status; True if it was new."""
    row = (
        await session.execute(
            select(incident_components.c.worst_status).where(
                incident_components.c.incident_id == incident_id,
                incident_components.c.component_id == component_id,
            )
        )
    ).one_or_none()
    if row is None:
        await session.execute(
            insert(incident_components).values(
                incident_id=incident_id,
                component_id=component_id,
                worst_status=str(status),
                added_at=at,
            )
        )
        return True
    worst = worst_status([ComponentStatus(row.worst_status), status])
    await session.execute(
        update(incident_components)
        .where(
            incident_components.c.incident_id == incident_id,
            incident_components.c.component_id == component_id,
        )
        .values(worst_status=str(worst))
    )
    return False


async def incident_component_ids(*, session: AsyncSession, incident_id: int) -> list[str]:
    """Return the ids of the components an incident affects, in the order they joined."""
    rows = await session.execute(
        select(incident_components.c.component_id)
        .where(incident_components.c.incident_id == incident_id)
        .order_by(incident_components.c.added_at, incident_components.c.component_id)
    )
    return list(rows.scalars())


async def set_severity(
    *, session: AsyncSession, incident_id: int, severity: Severity, reason: str, at: datetime
) -> None:
    """Store an incident's new severity, the reason for it, and since when it holds."""
    await session.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(severity=str(severity), severity_reason=reason, severity_since=at, updated_at=at)
    )


async def resolve_incident(*, session: AsyncSession, incident_id: int, at: datetime) -> None:
    """Mark an incident resolved."""
    await session.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(
            status=str(IncidentStatus.RESOLVED), resolved_at=at, updated_at=at, next_page_at=None
        )
    )


async def add_update(
    *,
    session: AsyncSession,
    incident_id: int,
    status: IncidentStatus,
    body_ja: str,
    body_en: str,
    at: datetime,
    affected_components: list[dict[str, Any]] | None = None,
) -> int:
    """Post a public, bilingual update on an incident and return its id."""
    result = await session.execute(
        insert(incident_updates)
        .values(
            incident_id=incident_id,
            status=str(status),
            body_ja=body_ja,
            body_en=body_en,
            affected_components=affected_components,
            created_at=at,
        )
        .returning(incident_updates.c.id)
    )
    await session.execute(
        update(incidents).where(incidents.c.id == incident_id).values(updated_at=at)
    )
    return int(result.scalar_one())


def _incident_row(row: Any) -> IncidentRow:
    return IncidentRow(
        row.id,
        IncidentStatus(row.status),
        Severity(row.severity),
        row.severity_reason,
        origin=row.origin,
        cause=row.cause,
        started_at=row.started_at,
        created_at=row.created_at,
        severity_since=row.severity_since or row.started_at,
        recovered_at=row.recovered_at,
        acknowledged_at=row.acknowledged_at,
        first_acknowledged_at=row.first_acknowledged_at,
        escalation_level=row.escalation_level,
        next_page_at=row.next_page_at,
        last_reminder_at=row.last_reminder_at,
        resolved_at=row.resolved_at,
    )


async def rename_incident(
    *, session: AsyncSession, incident_id: int, name_ja: str, name_en: str, at: datetime
) -> None:
    """Give an incident a new title in both languages."""
    await session.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(name_ja=name_ja, name_en=name_en, updated_at=at)
    )


async def last_update_at(*, session: AsyncSession, incident_id: int) -> datetime | None:
    """Return when the incident's newest public update was posted."""
    newest: datetime | None = await session.scalar(
        select(func.max(incident_updates.c.created_at)).where(
            incident_updates.c.incident_id == incident_id
        )
    )
    return newest
