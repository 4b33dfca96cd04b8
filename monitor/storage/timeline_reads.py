"""Read queries on the outage timeline and the incidents it tells of (reports, admin API).

Some events belong to an incident without naming it: an alert fires, and moves its component's
status, before the engine knows which incident it will join. An incident's timeline therefore
holds the events that name it, the events of its alerts, and the status changes of its
components while it was open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import (
    alerts,
    components,
    incident_components,
    incident_updates,
    incidents,
    timeline_events,
)

MAX_ID = 2**63 - 1  # the largest id either database can hold; larger ones name nothing


@dataclass(frozen=True, slots=True)
class EventRow:
    """One stored timeline event."""

    id: int
    at: datetime
    kind: str
    actor: str
    incident_id: int | None = None
    component_id: str | None = None
    check_id: str | None = None
    alert_id: int | None = None
    reason: str | None = None
    data: dict[str, Any] | None = None
    maintenance_id: int | None = None


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """Every column of an incident a report shows."""

    id: int
    name_ja: str
    name_en: str
    status: str
    severity: str
    severity_reason: str
    cause: str
    origin: str
    started_at: datetime
    created_at: datetime
    updated_at: datetime
    monitoring_at: datetime | None = None
    recovered_at: datetime | None = None
    resolved_at: datetime | None = None
    severity_since: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    first_acknowledged_at: datetime | None = None
    escalation_level: int = 0
    description: str | None = None
    impact_scope: str | None = None
    reproduction: str | None = None
    reporter: str | None = None
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class AffectedComponent:
    """A component an incident affects, with its names and the worst status it reached."""

    component_id: str
    name_ja: str
    name_en: str
    worst_status: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class UpdateRow:
    """One public, bilingual update of an incident."""

    id: int
    status: str
    body_ja: str
    body_en: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AlertEntry:
    """An alert that belonged to an incident."""

    id: int
    fingerprint: str
    source: str
    component_id: str
    check_id: str | None
    summary: str
    started_at: datetime
    resolved_at: datetime | None


async def incident_record(*, session: AsyncSession, incident_id: int) -> IncidentRecord | None:
    """Return the incident with every reported column, or None when there is none."""
    if not 0 < incident_id <= MAX_ID:
        return None
    row = (
        await session.execute(select(incidents).where(incidents.c.id == incident_id))
    ).one_or_none()
    if row is None:
        return None
    values = row._mapping
    return IncidentRecord(**{name: values[name] for name in IncidentRecord.__dataclass_fields__})


async def affected_components(
    *, session: AsyncSession, incident_id: int
) -> list[AffectedComponent]:
    """Return the incident's components in the order they joined, named in ja and en."""
    rows = await session.execute(
        select(incident_components, components.c.name_ja, components.c.name_en)
        .outerjoin(components, components.c.id == incident_components.c.component_id)
        .where(incident_components.c.incident_id == incident_id)
        .order_by(incident_components.c.added_at, incident_components.c.component_id)
    )
    return [
        AffectedComponent(
            row.component_id,
            row.name_ja or row.component_id,  # a component since removed from the config
            row.name_en or row.component_id,
            row.worst_status,
            row.added_at,
        )
        for row in rows
    ]


async def public_updates(*, session: AsyncSession, incident_id: int) -> list[UpdateRow]:
    """Return the incident's public updates, oldest first."""
    rows = await session.execute(
        select(incident_updates)
        .where(incident_updates.c.incident_id == incident_id)
        .order_by(incident_updates.c.created_at, incident_updates.c.id)
    )
    return [UpdateRow(r.id, r.status, r.body_ja, r.body_en, r.created_at) for r in rows]


async def incident_alerts(*, session: AsyncSession, incident_id: int) -> list[AlertEntry]:
    """Return the alerts that joined the incident, oldest first."""
    rows = await session.execute(
        select(alerts).where(alerts.c.incident_id == incident_id).order_by(alerts.c.id)
    )
    return [
        AlertEntry(
            id=r.id,
            fingerprint=r.fingerprint,
            source=r.source,
            component_id=r.component_id,
            check_id=r.check_id,
            summary=r.summary,
            started_at=r.started_at,
            resolved_at=r.resolved_at,
        )
        for r in rows
    ]


async def incident_events(*, session: AsyncSession, incident_id: int) -> list[EventRow]:
    """Return the incident's timeline (see the module docstring), in time order."""
    record = await incident_record(session=session, incident_id=incident_id)
    if record is None:
        return []
    first_alert = await session.scalar(
        select(func.min(alerts.c.started_at)).where(alerts.c.incident_id == incident_id)
    )
    opened = min(record.started_at, first_alert or record.started_at)
    rows = await session.execute(
        select(timeline_events)
        .where(
            or_(
                timeline_events.c.incident_id == incident_id,
                timeline_events.c.alert_id.in_(
                    select(alerts.c.id).where(alerts.c.incident_id == incident_id)
                ),
                _status_changes_while_open(incident_id, opened, record.resolved_at),
            )
        )
        .order_by(timeline_events.c.at, timeline_events.c.id)
    )
    return [event_from_row(row) for row in rows]


def _status_changes_while_open(
    incident_id: int, opened: datetime, resolved: datetime | None
) -> ColumnElement[bool]:
    """Status changes of the incident's components that name no incident, while it was open."""
    within = [timeline_events.c.at >= opened]
    if resolved is not None:
        within.append(timeline_events.c.at <= resolved)
    return and_(
        timeline_events.c.kind == "component_status_changed",
        timeline_events.c.incident_id.is_(None),
        timeline_events.c.component_id.in_(
            select(incident_components.c.component_id).where(
                incident_components.c.incident_id == incident_id
            )
        ),
        *within,
    )


async def events_page(
    *,
    session: AsyncSession,
    after_id: int | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[EventRow]:
    """Return up to ``limit`` events, by id: after event ``after_id``, or at/after ``since``."""
    condition: ColumnElement[bool] = timeline_events.c.id > 0
    if after_id is not None:
        condition = timeline_events.c.id > after_id if after_id < MAX_ID else false()
    if since is not None:
        condition = and_(condition, timeline_events.c.at >= since)
    rows = await session.execute(
        select(timeline_events).where(condition).order_by(timeline_events.c.id).limit(limit)
    )
    return [event_from_row(row) for row in rows]


def event_from_row(row: Any) -> EventRow:
    """Return a stored timeline row as an EventRow."""
    return EventRow(
        id=row.id,
        at=row.at,
        kind=row.kind,
        actor=row.actor,
        incident_id=row.incident_id,
        component_id=row.component_id,
        check_id=row.check_id,
        alert_id=row.alert_id,
        reason=row.reason,
        data=_data(row.data),
        maintenance_id=row.maintenance_id,
    )


def _data(value: Any) -> dict[str, Any] | None:
    """Return an event's data as a mapping (a writer that stored a bare value gets it wrapped)."""
    if value is None or isinstance(value, dict):
        return value
    return {"value": value}
