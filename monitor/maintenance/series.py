"""Recurring maintenance: defining a series and creating its windows ahead of time.

Windows are created up to ``schedule_ahead`` from now, each exactly once: a window is never
created twice for one start (unique series + start), and a window an admin moved or cancelled is
not created again. Rows created by the tick at time T covered starts up to T + schedule_ahead,
so the newest window's ``created_at`` + schedule_ahead is how far the series has been scheduled.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.maintenance.recurrence import Occurrence, recurrence_of
from monitor.maintenance.windows import cancel, iso
from monitor.storage.maintenance import (
    NewMaintenance,
    NewSeries,
    SeriesRow,
    insert_maintenance,
    insert_series,
    last_occurrence_created,
    list_maintenances,
    occurrence_at,
)
from monitor.storage.maintenance import deactivate_series as store_inactive
from monitor.storage.timeline import append_event

_JUST_BEFORE = timedelta(microseconds=1)


async def create_series(
    session: AsyncSession, new: NewSeries, *, at: datetime, actor: str, ahead: timedelta
) -> int:
    """Store a series, record it, and create its windows up to ``ahead``; return its id."""
    series_id = await insert_series(session=session, new=new, at=at)
    data = {"series_id": series_id, "cron": new.cron, "time_zone": new.time_zone,
            "duration_s": new.duration_s, "components": list(new.components)}  # fmt: skip
    await append_event(
        session=session, at=at, kind="maintenance_series_created",
        reason=f"{new.cron} ({new.time_zone}) for {new.name_en}", data=data, actor=actor,
    )  # fmt: skip
    series = SeriesRow(id=series_id, **asdict(new), active=True, created_at=at)
    await schedule_occurrences(session, series, now=at, ahead=ahead)
    return series_id


async def pending_occurrences(
    session: AsyncSession, series: SeriesRow, *, now: datetime, ahead: timedelta
) -> list[Occurrence]:
    """Return the series' windows due to be created now (those not created before)."""
    rule = recurrence_of(series.cron, series.time_zone, series.duration_s)
    after = await _scheduled_through(session, series.id, now=now, ahead=ahead)
    found = rule.expand(after=after, until=now + ahead)
    return [o for o in found if await _missing(session, series.id, o)]


async def schedule_occurrences(
    session: AsyncSession, series: SeriesRow, *, now: datetime, ahead: timedelta
) -> list[int]:
    """Create the series' windows that start by ``now + ahead``; return the new ids."""
    created: list[int] = []
    for occurrence in await pending_occurrences(session, series, now=now, ahead=ahead):
        created.append(await _create_occurrence(session, series, occurrence, at=now))
    return created


async def deactivate(session: AsyncSession, series: SeriesRow, *, at: datetime, actor: str) -> None:
    """Stop a series; its windows not yet started are cancelled (those in progress go on)."""
    await store_inactive(session=session, series_id=series.id)
    await append_event(
        session=session, at=at, kind="maintenance_series_deactivated",
        reason=f"series #{series.id} ({series.cron}) stopped", data={"series_id": series.id},
        actor=actor,
    )  # fmt: skip
    reason = f"series #{series.id} was deactivated"
    for window in await list_maintenances(session=session, status="scheduled", series_id=series.id):
        await cancel(session, window, at=at, actor=actor, reason=reason)


async def _scheduled_through(
    session: AsyncSession, series_id: int, *, now: datetime, ahead: timedelta
) -> datetime:
    """Return the instant after which the series' windows have not been created yet."""
    after = now - _JUST_BEFORE  # never in the past; a window starting right now still counts
    created = await last_occurrence_created(session=session, series_id=series_id)
    return after if created is None else max(after, created + ahead)


async def _missing(session: AsyncSession, series_id: int, occurrence: Occurrence) -> bool:
    return await occurrence_at(session=session, series_id=series_id, start=occurrence.start) is None


async def _create_occurrence(
    session: AsyncSession, series: SeriesRow, occurrence: Occurrence, *, at: datetime
) -> int:
    new = NewMaintenance(
        name_ja=series.name_ja, name_en=series.name_en,
        body_ja=series.body_ja, body_en=series.body_en,
        scheduled_start=occurrence.start, scheduled_end=occurrence.end,
        components=series.components, series_id=series.id,
    )  # fmt: skip
    maintenance_id = await insert_maintenance(session=session, new=new, at=at)
    data = {"series_id": series.id, "scheduled_start": iso(occurrence.start),
            "scheduled_end": iso(occurrence.end), "components": list(series.components)}  # fmt: skip
    await append_event(
        session=session, at=at, kind="maintenance_scheduled", maintenance_id=maintenance_id,
        reason=f"occurrence of series #{series.id} ({series.cron}, {series.time_zone})",
        data=data, actor="engine",
    )  # fmt: skip
    return maintenance_id
