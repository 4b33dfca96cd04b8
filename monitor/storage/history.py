"""Loads the history read model: all incidents and public maintenance, one query per table."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import IncidentStatus
from monitor.history_views import HistoryView
from monitor.storage.postmortems import published_postmortems
from monitor.storage.tables import (
    incident_components,
    incident_updates,
    incidents,
    maintenances,
)
from monitor.storage.views import _announced, _incident, _maintenance, covered_components
from monitor.views import IncidentView, MaintenanceStatus, MaintenanceView, UpdateView


async def load_history(*, session: AsyncSession) -> HistoryView:
    """Return every incident with its updates and components, and every non-cancelled window.

    Six queries whatever the size of the history (no per-incident round trips, no ``IN`` lists
    that grow with it): incidents, their updates, their components, their published postmortems,
    windows, their components.
    """
    return HistoryView(
        incidents=await _all_incidents(session), maintenances=await _all_maintenances(session)
    )


async def _all_incidents(session: AsyncSession) -> tuple[IncidentView, ...]:
    rows = (await session.execute(select(incidents))).all()
    if not rows:
        return ()
    updates = await _all_updates(session)
    affected = await _all_affected(session)
    written = await published_postmortems(session=session)
    views = [_incident(row, updates[row.id], affected[row.id], written.get(row.id)) for row in rows]
    return tuple(sorted(views, key=lambda i: (i.started_at, i.id), reverse=True))


async def _all_updates(session: AsyncSession) -> dict[int, list[UpdateView]]:
    rows = await session.execute(
        select(incident_updates).order_by(
            incident_updates.c.created_at.desc(), incident_updates.c.id.desc()
        )
    )
    grouped: dict[int, list[UpdateView]] = defaultdict(list)
    for row in rows:
        grouped[row.incident_id].append(_update(row))
    return grouped


def _update(row: Any) -> UpdateView:
    return UpdateView(
        id=row.id,
        incident_id=row.incident_id,
        status=IncidentStatus(row.status),
        bodies={"ja": row.body_ja, "en": row.body_en},
        created_at=row.created_at,
        affected_components=_announced(row.affected_components),
    )


async def _all_affected(session: AsyncSession) -> dict[int, list[str]]:
    rows = await session.execute(
        select(incident_components.c.incident_id, incident_components.c.component_id).order_by(
            incident_components.c.added_at, incident_components.c.component_id
        )
    )
    grouped: dict[int, list[str]] = defaultdict(list)
    for incident_id, component_id in rows:
        grouped[incident_id].append(component_id)
    return grouped


async def _all_maintenances(session: AsyncSession) -> tuple[MaintenanceView, ...]:
    rows = (
        await session.execute(
            select(maintenances).where(maintenances.c.status != str(MaintenanceStatus.CANCELLED))
        )
    ).all()
    if not rows:
        return ()
    covered = await covered_components(session)
    views = [_maintenance(row, covered[row.id]) for row in rows]
    return tuple(sorted(views, key=lambda m: (m.scheduled_start, m.id), reverse=True))
