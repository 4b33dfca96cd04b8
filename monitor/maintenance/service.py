"""Maintenance as a service: the admin operations and the clock tick, each in one transaction.

Every change goes through the engine's ``exclusive()`` (its lock, one transaction, a snapshot
refresh after commit), so it never interleaves with a probe result being applied. Reads use a
plain transaction. Time comes from the injected clock (the tick is handed its ``now``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.clock import Clock
from monitor.maintenance import windows
from monitor.maintenance.errors import ConflictError, InvalidFieldError, NotFoundError
from monitor.maintenance.recurrence import RecurrenceError, parse_recurrence
from monitor.maintenance.series import (
    create_series,
    deactivate,
    pending_occurrences,
    schedule_occurrences,
)
from monitor.maintenance.windows import ComponentRefresher, WindowChanges
from monitor.reload.live import ConfigSource, live_config
from monitor.storage.database import Database
from monitor.storage.maintenance import (
    MaintenanceRow,
    NewMaintenance,
    NewSeries,
    SeriesRow,
    get_maintenance,
    get_series,
    insert_maintenance,
    list_maintenances,
    list_series,
    windows_to_announce,
    windows_to_end,
    windows_to_start,
)
from monitor.storage.timeline import append_event

log = logging.getLogger(__name__)
MAX_OCCURRENCES = 1000  # a series firing more often than this within schedule_ahead is refused

Step = Callable[[AsyncSession, MaintenanceRow, datetime], Awaitable[None]]
Find = Callable[[AsyncSession], Awaitable[list[MaintenanceRow]]]


class Engine(Protocol):
    """What maintenance needs of the alert engine: its lock and its component refresh."""

    @property
    def book(self) -> ComponentRefresher:
        """The alert book, which recomputes component statuses."""
        ...

    def exclusive(self) -> AbstractAsyncContextManager[AsyncSession]:
        """Hold the engine's lock and one transaction; refresh the snapshot after commit."""
        ...


class MaintenanceService:
    """Schedules, announces, starts and ends maintenance windows; serves the admin API."""

    def __init__(
        self, *, engine: Engine, database: Database, config: ConfigSource, clock: Clock
    ) -> None:
        self._engine = engine
        self._database = database
        self._live = live_config(config)  # read at each use: a config reload changes it
        self._clock = clock

    @property
    def site_time_zone(self) -> str:
        """The time zone a series follows when none is given."""
        return self._live.current.site.time_zone

    @property
    def _announce_ahead(self) -> timedelta:
        return timedelta(seconds=self._live.current.maintenance.announce_ahead)

    @property
    def _schedule_ahead(self) -> timedelta:
        return timedelta(seconds=self._live.current.maintenance.schedule_ahead)

    @property
    def _components(self) -> set[str]:
        return {c.id for c in self._live.current.components}

    async def get(self, maintenance_id: int) -> MaintenanceRow:
        """Return one window (NotFoundError if there is none)."""
        async with self._database.transaction() as session:
            return await _window(session, maintenance_id)

    async def list_windows(
        self, *, status: str | None = None, series_id: int | None = None
    ) -> list[MaintenanceRow]:
        """Return windows by start, optionally of one status or one series."""
        async with self._database.transaction() as session:
            return await list_maintenances(session=session, status=status, series_id=series_id)

    async def get_series(self, series_id: int) -> SeriesRow:
        """Return one series (NotFoundError if there is none)."""
        async with self._database.transaction() as session:
            return await _series(session, series_id)

    async def list_series(self) -> list[SeriesRow]:
        """Return every series by id."""
        async with self._database.transaction() as session:
            return await list_series(session=session)

    async def schedule(self, new: NewMaintenance, *, actor: str) -> MaintenanceRow:
        """Schedule a one-off window."""
        self._check_components(new.components)
        at = self._clock.now()
        if new.scheduled_end <= at:
            raise InvalidFieldError(
                "scheduled_end", f"{windows.iso(new.scheduled_end)} is in the past"
            )
        async with self._engine.exclusive() as session:
            maintenance_id = await insert_maintenance(session=session, new=new, at=at)
            window = await _window(session, maintenance_id)
            await append_event(
                session=session, at=at, kind="maintenance_scheduled", maintenance_id=window.id,
                reason=f"{windows.iso(new.scheduled_start)} to {windows.iso(new.scheduled_end)}",
                data=windows.summary(window), actor=actor,
            )  # fmt: skip
            return window

    async def create_series(self, new: NewSeries, *, actor: str) -> SeriesRow:
        """Define a recurring window and create its first occurrences."""
        self._check_components(new.components)
        at = self._clock.now()
        self._check_recurrence(new, at)
        async with self._engine.exclusive() as session:
            series_id = await create_series(
                session, new, at=at, actor=actor, ahead=self._schedule_ahead
            )
            return await _series(session, series_id)

    async def deactivate_series(self, series_id: int, *, actor: str) -> SeriesRow:
        """Stop a series; its windows not yet started are cancelled."""
        async with self._engine.exclusive() as session:
            series = await _series(session, series_id)
            if not series.active:
                raise ConflictError(f"series #{series_id} is already inactive")
            await deactivate(session, series, at=self._clock.now(), actor=actor)
            return await _series(session, series_id)

    async def start(self, maintenance_id: int, *, actor: str) -> MaintenanceRow:
        """Start a window now (early, or late by hand)."""

        async def step(session: AsyncSession, window: MaintenanceRow, at: datetime) -> None:
            if window.status == "scheduled" and window.scheduled_end <= at:
                raise ConflictError(
                    f"cannot start maintenance #{window.id}: its scheduled end "
                    f"{windows.iso(window.scheduled_end)} has passed; extend it first"
                )
            await windows.start(session, self._engine.book, window, at=at, actor=actor)

        return await self._change(maintenance_id, step)

    async def complete(self, maintenance_id: int, *, actor: str) -> MaintenanceRow:
        """End a window in progress now (early or late)."""

        async def step(session: AsyncSession, window: MaintenanceRow, at: datetime) -> None:
            await windows.complete(session, self._engine.book, window, at=at, actor=actor)

        return await self._change(maintenance_id, step)

    async def extend(
        self, maintenance_id: int, *, scheduled_end: datetime, actor: str
    ) -> MaintenanceRow:
        """Move a window's end later."""

        async def step(session: AsyncSession, window: MaintenanceRow, at: datetime) -> None:
            await windows.extend(session, window, new_end=scheduled_end, at=at, actor=actor)

        return await self._change(maintenance_id, step)

    async def cancel(
        self, maintenance_id: int, *, actor: str, reason: str | None = None
    ) -> MaintenanceRow:
        """Call off a window that has not started."""

        async def step(session: AsyncSession, window: MaintenanceRow, at: datetime) -> None:
            await windows.cancel(session, window, at=at, actor=actor, reason=reason)

        return await self._change(maintenance_id, step)

    async def edit(
        self, maintenance_id: int, changes: WindowChanges, *, actor: str
    ) -> MaintenanceRow:
        """Change a window's text, components or times."""
        if changes.components is not None:
            self._check_components(changes.components)

        async def step(session: AsyncSession, window: MaintenanceRow, at: datetime) -> None:
            await windows.edit(
                session, self._engine.book, window, changes,
                at=at, actor=actor, announce_ahead=self._announce_ahead,
            )  # fmt: skip

        return await self._change(maintenance_id, step)

    async def tick(self, now: datetime) -> None:
        """Create series windows ahead, then announce, start and end the windows that are due."""
        await self._schedule_series(now)
        ahead_until = now + self._announce_ahead

        async def to_announce(session: AsyncSession) -> list[MaintenanceRow]:
            return await windows_to_announce(session=session, now=now, ahead_until=ahead_until)

        async def to_start(session: AsyncSession) -> list[MaintenanceRow]:
            return await windows_to_start(session=session, now=now)

        async def to_end(session: AsyncSession) -> list[MaintenanceRow]:
            return await windows_to_end(session=session, now=now)

        await self._each_due(to_announce, _announce, now)
        await self._each_due(to_start, self._start_due, now)
        await self._each_due(to_end, self._end_due, now)

    async def _start_due(self, session: AsyncSession, window: MaintenanceRow, at: datetime) -> None:
        await windows.start(session, self._engine.book, window, at=at, actor="engine")

    async def _end_due(self, session: AsyncSession, window: MaintenanceRow, at: datetime) -> None:
        await windows.complete(session, self._engine.book, window, at=at, actor="engine")

    async def _schedule_series(self, now: datetime) -> None:
        async with self._database.transaction() as session:
            active = await list_series(session=session, active=True)
        for series in active:
            try:
                await self._schedule_one(series, now)
            except Exception:  # one broken series must not keep the others from being scheduled
                log.exception("maintenance series #%s: windows not created", series.id)

    async def _schedule_one(self, series: SeriesRow, now: datetime) -> None:
        ahead = self._schedule_ahead
        async with self._database.transaction() as session:
            pending = await pending_occurrences(session, series, now=now, ahead=ahead)
        if pending:
            async with self._engine.exclusive() as session:
                await schedule_occurrences(session, series, now=now, ahead=ahead)

    async def _each_due(self, find: Find, step: Step, now: datetime) -> None:
        """Apply ``step`` to each window ``find`` returns, each in its own transaction."""
        async with self._database.transaction() as session:
            due = await find(session)
        for window in due:
            try:
                async with self._engine.exclusive() as session:
                    still = {w.id: w for w in await find(session)}.get(window.id)
                    if still is not None:  # an admin may have changed it meanwhile
                        await step(session, still, now)
            except Exception:  # one window must not hold up the others
                log.exception("maintenance #%s: not advanced; retried next tick", window.id)

    async def _change(self, maintenance_id: int, step: Step) -> MaintenanceRow:
        at = self._clock.now()
        async with self._engine.exclusive() as session:
            window = await _window(session, maintenance_id)
            await step(session, window, at)
            return await _window(session, maintenance_id)

    def _check_components(self, component_ids: tuple[str, ...]) -> None:
        unknown = [c for c in component_ids if c not in self._components]
        if unknown:
            raise InvalidFieldError("components", f"unknown component(s): {', '.join(unknown)}")

    def _check_recurrence(self, new: NewSeries, at: datetime) -> None:
        try:
            rule = parse_recurrence(new.cron, new.time_zone, new.duration_s, now=at)
        except RecurrenceError as error:
            raise InvalidFieldError(error.field, error.message) from None
        count = rule.count_within(after=at, span=self._schedule_ahead, limit=MAX_OCCURRENCES)
        if count > MAX_OCCURRENCES:
            raise InvalidFieldError(
                "cron", f"fires more than {MAX_OCCURRENCES} times within schedule_ahead"
            )


async def _announce(session: AsyncSession, window: MaintenanceRow, at: datetime) -> None:
    await windows.announce(session, window, at=at)


async def _window(session: AsyncSession, maintenance_id: int) -> MaintenanceRow:
    window = await get_maintenance(session=session, maintenance_id=maintenance_id)
    if window is None:
        raise NotFoundError(f"maintenance #{maintenance_id} does not exist")
    return window


async def _series(session: AsyncSession, series_id: int) -> SeriesRow:
    series = await get_series(session=session, series_id=series_id)
    if series is None:
        raise NotFoundError(f"maintenance series #{series_id} does not exist")
    return series
