"""Maintenance windows, their components and recurring series: the CRUD queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from monitor.storage.tables import maintenance_components, maintenance_series, maintenances


@dataclass(frozen=True, slots=True)
class MaintenanceRow:
    """One maintenance window with the components it covers."""

    id: int
    series_id: int | None
    name_ja: str
    name_en: str
    body_ja: str
    body_en: str
    status: str  # scheduled | in_progress | completed | cancelled
    scheduled_start: datetime
    scheduled_end: datetime
    started_at: datetime | None
    ended_at: datetime | None
    announced_at: datetime | None
    created_at: datetime
    updated_at: datetime
    components: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewMaintenance:
    """What scheduling one window needs."""

    name_ja: str
    name_en: str
    body_ja: str
    body_en: str
    scheduled_start: datetime
    scheduled_end: datetime
    components: tuple[str, ...]
    series_id: int | None = None


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """A recurring maintenance: a cron in a time zone, a duration, text and components."""

    id: int
    cron: str
    time_zone: str
    duration_s: float
    name_ja: str
    name_en: str
    body_ja: str
    body_en: str
    components: tuple[str, ...]
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewSeries:
    """What defining a recurring maintenance needs."""

    cron: str
    time_zone: str
    duration_s: float
    name_ja: str
    name_en: str
    body_ja: str
    body_en: str
    components: tuple[str, ...]


async def insert_maintenance(*, session: AsyncSession, new: NewMaintenance, at: datetime) -> int:
    """Insert a window in ``scheduled`` with its components and return its id."""
    result = await session.execute(
        insert(maintenances)
        .values(
            series_id=new.series_id,
            name_ja=new.name_ja,
            name_en=new.name_en,
            body_ja=new.body_ja,
            body_en=new.body_en,
            status="scheduled",
            scheduled_start=new.scheduled_start,
            scheduled_end=new.scheduled_end,
            created_at=at,
            updated_at=at,
        )
        .returning(maintenances.c.id)
    )
    maintenance_id = int(result.scalar_one())
    await replace_components(
        session=session, maintenance_id=maintenance_id, component_ids=new.components
    )
    return maintenance_id


async def replace_components(
    *, session: AsyncSession, maintenance_id: int, component_ids: Sequence[str]
) -> None:
    """Make ``component_ids`` the components a window covers."""
    await session.execute(
        delete(maintenance_components).where(
            maintenance_components.c.maintenance_id == maintenance_id
        )
    )
    if component_ids:
        await session.execute(
            insert(maintenance_components),
            [{"maintenance_id": maintenance_id, "component_id": c} for c in component_ids],
        )


async def update_maintenance(
    *, session: AsyncSession, maintenance_id: int, values: Mapping[str, Any], at: datetime
) -> None:
    """Set columns of one window (``updated_at`` becomes ``at``)."""
    await session.execute(
        update(maintenances)
        .where(maintenances.c.id == maintenance_id)
        .values(**values, updated_at=at)
    )


async def get_maintenance(*, session: AsyncSession, maintenance_id: int) -> MaintenanceRow | None:
    """Return one window, or None when there is no such window."""
    found = await _windows(session, maintenances.c.id == maintenance_id)
    return found[0] if found else None


async def list_maintenances(
    *, session: AsyncSession, status: str | None = None, series_id: int | None = None
) -> list[MaintenanceRow]:
    """Return windows by scheduled start, optionally of one status or one series."""
    where: list[ColumnElement[bool]] = []
    if status is not None:
        where.append(maintenances.c.status == status)
    if series_id is not None:
        where.append(maintenances.c.series_id == series_id)
    return await _windows(session, *where)


async def windows_to_announce(
    *, session: AsyncSession, now: datetime, ahead_until: datetime
) -> list[MaintenanceRow]:
    """Scheduled, unannounced windows that start after ``now`` and by ``ahead_until``."""
    return await _windows(
        session,
        maintenances.c.status == "scheduled",
        maintenances.c.announced_at.is_(None),
        maintenances.c.scheduled_start > now,
        maintenances.c.scheduled_start <= ahead_until,
    )


async def windows_to_start(*, session: AsyncSession, now: datetime) -> list[MaintenanceRow]:
    """Scheduled windows whose start has come."""
    return await _windows(
        session, maintenances.c.status == "scheduled", maintenances.c.scheduled_start <= now
    )


async def windows_to_end(*, session: AsyncSession, now: datetime) -> list[MaintenanceRow]:
    """Windows in progress whose scheduled end has come."""
    return await _windows(
        session, maintenances.c.status == "in_progress", maintenances.c.scheduled_end <= now
    )


async def occurrence_at(*, session: AsyncSession, series_id: int, start: datetime) -> int | None:
    """Return the id of the series' window that starts at ``start``, if there is one."""
    found = await session.scalar(
        select(maintenances.c.id).where(
            maintenances.c.series_id == series_id, maintenances.c.scheduled_start == start
        )
    )
    return None if found is None else int(found)


async def last_occurrence_created(*, session: AsyncSession, series_id: int) -> datetime | None:
    """Return when the series' newest window was created (None before the first)."""
    created: datetime | None = await session.scalar(
        select(func.max(maintenances.c.created_at)).where(maintenances.c.series_id == series_id)
    )
    return created


async def insert_series(*, session: AsyncSession, new: NewSeries, at: datetime) -> int:
    """Insert an active series and return its id."""
    result = await session.execute(
        insert(maintenance_series)
        .values(
            cron=new.cron,
            time_zone=new.time_zone,
            duration_s=new.duration_s,
            name_ja=new.name_ja,
            name_en=new.name_en,
            body_ja=new.body_ja,
            body_en=new.body_en,
            components=list(new.components),
            active=True,
            created_at=at,
        )
        .returning(maintenance_series.c.id)
    )
    return int(result.scalar_one())


async def get_series(*, session: AsyncSession, series_id: int) -> SeriesRow | None:
    """Return one series, or None when there is no such series."""
    row = (
        await session.execute(
            select(maintenance_series).where(maintenance_series.c.id == series_id)
        )
    ).one_or_none()
    return None if row is None else _series_row(row)


async def list_series(*, session: AsyncSession, active: bool | None = None) -> list[SeriesRow]:
    """Return every series (or only the active or inactive ones) by id."""
    query = select(maintenance_series).order_by(maintenance_series.c.id)
    if active is not None:
        query = query.where(maintenance_series.c.active == active)
    return [_series_row(row) for row in (await session.execute(query)).all()]


async def deactivate_series(*, session: AsyncSession, series_id: int) -> None:
    """Stop a series from scheduling new windows."""
    await session.execute(
        update(maintenance_series).where(maintenance_series.c.id == series_id).values(active=False)
    )


async def _windows(session: AsyncSession, *where: ColumnElement[bool]) -> list[MaintenanceRow]:
    rows = (
        await session.execute(
            select(maintenances)
            .where(*where)
            .order_by(maintenances.c.scheduled_start, maintenances.c.id)
        )
    ).all()
    covered = await _components_of(session, [int(row.id) for row in rows])
    return [_window_row(row, covered.get(int(row.id), ())) for row in rows]


async def _components_of(
    session: AsyncSession, maintenance_ids: list[int]
) -> dict[int, tuple[str, ...]]:
    if not maintenance_ids:
        return {}
    rows = (
        await session.execute(
            select(maintenance_components)
            .where(maintenance_components.c.maintenance_id.in_(maintenance_ids))
            .order_by(maintenance_components.c.component_id)
        )
    ).all()
    found: dict[int, tuple[str, ...]] = {}
    for row in rows:
        key = int(row.maintenance_id)
        found[key] = (*found.get(key, ()), str(row.component_id))
    return found


def _window_row(row: Row[Any], components: tuple[str, ...]) -> MaintenanceRow:
    return MaintenanceRow(
        id=int(row.id),
        series_id=None if row.series_id is None else int(row.series_id),
        name_ja=row.name_ja,
        name_en=row.name_en,
        body_ja=row.body_ja,
        body_en=row.body_en,
        status=row.status,
        scheduled_start=row.scheduled_start,
        scheduled_end=row.scheduled_end,
        started_at=row.started_at,
        ended_at=row.ended_at,
        announced_at=row.announced_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        components=components,
    )


def _series_row(row: Row[Any]) -> SeriesRow:
    return SeriesRow(
        id=int(row.id),
        cron=row.cron,
        time_zone=row.time_zone,
        duration_s=float(row.duration_s),
        name_ja=row.name_ja,
        name_en=row.name_en,
        body_ja=row.body_ja,
        body_en=row.body_en,
        components=tuple(row.components),
        active=bool(row.active),
        created_at=row.created_at,
    )
