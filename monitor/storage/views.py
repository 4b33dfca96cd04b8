"""Loads the read models the status page is rendered from."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.storage.postmortems import published_postmortems
from monitor.storage.tables import (
    component_groups,
    components,
    incident_components,
    incident_updates,
    incidents,
    maintenance_components,
    maintenances,
)
from monitor.storage.uptime import load_uptime
from monitor.uptime import UPTIME_DAYS
from monitor.views import (
    AffectedComponent,
    ComponentView,
    GroupView,
    IncidentView,
    Localized,
    MaintenanceStatus,
    MaintenanceView,
    PostmortemView,
    SiteView,
    StatusView,
    UpdateView,
)

_CURRENT_MAINTENANCE = (str(MaintenanceStatus.SCHEDULED), str(MaintenanceStatus.IN_PROGRESS))


async def load_status(
    *,
    session: AsyncSession,
    site: SiteView,
    now: datetime,
    recent: int = 50,
    uptime_days: int = UPTIME_DAYS,
) -> StatusView:
    """Return the page's read model: components, groups, open plus the ``recent`` newest incidents,
    scheduled and in-progress maintenance plus the ``recent`` newest finished windows, and each
    component's daily uptime for ``uptime_days`` days in the site's time zone."""
    component_views = await _components(session)
    return StatusView(
        site=site,
        generated_at=now,
        groups=await _groups(session, component_views),
        components=component_views,
        incidents=await _incidents(session, recent),
        maintenances=await _maintenances(session, recent),
        uptime=await load_uptime(
            session=session,
            components=component_views,
            time_zone=site.time_zone,
            now=now,
            days=uptime_days,
        ),
    )


async def _components(session: AsyncSession) -> tuple[ComponentView, ...]:
    rows = await session.execute(
        select(components).where(components.c.active.is_(True)).order_by(components.c.position)
    )
    return tuple(_component(row) for row in rows)


def _component(row: Any) -> ComponentView:
    descriptions = (
        {"ja": row.description_ja, "en": row.description_en} if row.description_en else None
    )
    return ComponentView(
        id=row.id,
        names={"ja": row.name_ja, "en": row.name_en},
        descriptions=descriptions,
        group_id=row.group_id,
        status=ComponentStatus(row.status),
        position=row.position,
        created_at=row.created_at,
        updated_at=row.updated_at,
        override_message=_both_languages(row.override_message_ja, row.override_message_en),
    )


def _both_languages(ja: str | None, en: str | None) -> Localized | None:
    """Return a text in both languages, each falling back on the other; None when both are empty."""
    if not (ja or en):
        return None
    return {"ja": ja or en or "", "en": en or ja or ""}


async def _groups(
    session: AsyncSession, members: tuple[ComponentView, ...]
) -> tuple[GroupView, ...]:
    rows = await session.execute(select(component_groups).order_by(component_groups.c.position))
    by_group: dict[str, list[str]] = defaultdict(list)
    for component in members:
        if component.group_id is not None:
            by_group[component.group_id].append(component.id)
    return tuple(
        GroupView(
            id=row.id,
            names={"ja": row.name_ja, "en": row.name_en},
            position=row.position,
            created_at=row.created_at,
            updated_at=row.updated_at,
            component_ids=tuple(by_group[row.id]),
        )
        for row in rows
        if by_group[row.id]
    )


async def _incidents(session: AsyncSession, recent: int) -> tuple[IncidentView, ...]:
    open_ids = select(incidents.c.id).where(incidents.c.status != str(IncidentStatus.RESOLVED))
    newest = (
        select(incidents.c.id)
        .order_by(incidents.c.created_at.desc(), incidents.c.id.desc())
        .limit(recent)
    )
    ids = set((await session.execute(open_ids)).scalars()) | set(
        (await session.execute(newest)).scalars()
    )
    if not ids:
        return ()
    rows = (await session.execute(select(incidents).where(incidents.c.id.in_(ids)))).all()
    updates = await _updates(session, ids)
    affected = await _affected(session, ids)
    written = await published_postmortems(session=session, incident_ids=ids)
    views = [_incident(row, updates[row.id], affected[row.id], written.get(row.id)) for row in rows]
    return tuple(sorted(views, key=lambda i: (i.created_at, i.id), reverse=True))


def _incident(
    row: Any,
    updates: list[UpdateView],
    affected: list[str],
    postmortem: PostmortemView | None = None,
) -> IncidentView:
    return IncidentView(
        id=row.id,
        names={"ja": row.name_ja, "en": row.name_en},
        status=IncidentStatus(row.status),
        severity=Severity(row.severity),
        severity_reason=row.severity_reason,
        started_at=row.started_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        monitoring_at=row.monitoring_at,
        resolved_at=row.resolved_at,
        component_ids=tuple(affected),
        updates=tuple(updates),
        postmortem=postmortem,
    )


async def _updates(session: AsyncSession, ids: set[int]) -> dict[int, list[UpdateView]]:
    rows = await session.execute(
        select(incident_updates)
        .where(incident_updates.c.incident_id.in_(ids))
        .order_by(incident_updates.c.created_at.desc(), incident_updates.c.id.desc())
    )
    grouped: dict[int, list[UpdateView]] = defaultdict(list)
    for row in rows:
        grouped[row.incident_id].append(
            UpdateView(
                id=row.id,
                incident_id=row.incident_id,
                status=IncidentStatus(row.status),
                bodies={"ja": row.body_ja, "en": row.body_en},
                created_at=row.created_at,
                affected_components=_announced(row.affected_components),
            )
        )
    return grouped


def _announced(raw: Any) -> tuple[AffectedComponent, ...] | None:
    """Read the component statuses an update announced (``[{"id", "status"[, "old_status"]}]``).

    Entries that are not in that shape are left out rather than failing the whole page.
    """
    if not isinstance(raw, list):
        return None
    found = [entry for item in raw if (entry := _announced_one(item)) is not None]
    return tuple(found) or None


def _announced_one(item: Any) -> AffectedComponent | None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return None
    status = _status_or_none(item.get("status"))
    if status is None:
        return None
    return AffectedComponent(item["id"], status, _status_or_none(item.get("old_status")))


def _status_or_none(value: Any) -> ComponentStatus | None:
    try:
        return ComponentStatus(value)
    except ValueError:
        return None


async def _affected(session: AsyncSession, ids: set[int]) -> dict[int, list[str]]:
    rows = await session.execute(
        select(incident_components.c.incident_id, incident_components.c.component_id)
        .where(incident_components.c.incident_id.in_(ids))
        .order_by(incident_components.c.added_at, incident_components.c.component_id)
    )
    grouped: dict[int, list[str]] = defaultdict(list)
    for incident_id, component_id in rows:
        grouped[incident_id].append(component_id)
    return grouped


async def _maintenances(session: AsyncSession, recent: int) -> tuple[MaintenanceView, ...]:
    current = select(maintenances.c.id).where(maintenances.c.status.in_(_CURRENT_MAINTENANCE))
    finished = (
        select(maintenances.c.id)
        .where(
            maintenances.c.status.not_in(_CURRENT_MAINTENANCE),
            maintenances.c.status != str(MaintenanceStatus.CANCELLED),
        )
        .order_by(maintenances.c.scheduled_start.desc(), maintenances.c.id.desc())
        .limit(recent)
    )
    ids = set((await session.execute(current)).scalars()) | set(
        (await session.execute(finished)).scalars()
    )
    if not ids:
        return ()
    rows = (await session.execute(select(maintenances).where(maintenances.c.id.in_(ids)))).all()
    covered = await covered_components(session, ids)
    views = [_maintenance(row, covered[row.id]) for row in rows]
    return tuple(sorted(views, key=lambda m: (m.scheduled_start, m.id), reverse=True))


def _maintenance(row: Any, component_ids: list[str]) -> MaintenanceView:
    return MaintenanceView(
        id=row.id,
        names={"ja": row.name_ja, "en": row.name_en},
        bodies={"ja": row.body_ja, "en": row.body_en},
        status=MaintenanceStatus(row.status),
        scheduled_start=row.scheduled_start,
        scheduled_end=row.scheduled_end,
        started_at=row.started_at,
        ended_at=row.ended_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        component_ids=tuple(component_ids),
    )


async def covered_components(
    session: AsyncSession, ids: set[int] | None = None
) -> dict[int, list[str]]:
    """Return the components each window (of ``ids``, or every window) covers, in page order
    (unknown ids last, by id)."""
    query = select(
        maintenance_components.c.maintenance_id, maintenance_components.c.component_id
    ).outerjoin(components, components.c.id == maintenance_components.c.component_id)
    if ids is not None:
        query = query.where(maintenance_components.c.maintenance_id.in_(ids))
    rows = await session.execute(
        query.order_by(
            components.c.position.is_(None),
            components.c.position,
            maintenance_components.c.component_id,
        )
    )
    grouped: dict[int, list[str]] = defaultdict(list)
    for maintenance_id, component_id in rows:
        grouped[maintenance_id].append(component_id)
    return grouped
