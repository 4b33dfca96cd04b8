"""The config reload: read the file again, validate it as at start, apply what changes live.

A reload is all or nothing. An invalid file (the same loader and the same ``path: message``
errors as ``exwatch run``) raises ``ConfigError`` before anything changed; so does a database
failure while the catalog is brought in step. On success, in order: the engine updates the
catalog, region states and alerts and puts the new config in the holder (``LiveConfig``),
under its lock, with a ``config_reloaded`` timeline event; the scheduler adds, removes and
replaces jobs; the public snapshot is rendered again. Everything else reads the holder.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.config import CheckConfig, Config, load_config
from monitor.config.models import LOCAL_REGION
from monitor.engine import Record
from monitor.reload.live import LiveConfig
from monitor.reload.plan import ReloadReport, plan_reload
from monitor.storage.timeline import append_event

log = logging.getLogger(__name__)
RELOADED_EVENT = "config_reloaded"
Loader = Callable[[Path], Config]


class NotFromFileError(Exception):
    """This process was not started from a config file: there is nothing to read again."""


class Reconfigurable(Protocol):
    """The engine's part in a reload (``AlertEngine.reconfigure``)."""

    async def reconfigure(self, config: Config, record: Record) -> None:
        """Put ``config`` in force under the engine's lock, ``record`` in the same transaction."""
        ...


class Reschedulable(Protocol):
    """The scheduler's part in a reload (``CheckScheduler.reschedule``)."""

    def reschedule(self, checks: Sequence[CheckConfig]) -> None:
        """Run ``checks`` from now on."""
        ...


class ConfigReloader:
    """Reloads the config file the process started from; one reload at a time."""

    def __init__(
        self,
        path: Path | None,
        live: LiveConfig,
        *,
        engine: Reconfigurable,
        scheduler: Reschedulable,
        refresh: Callable[[], Awaitable[None]],
        load: Loader = load_config,
    ) -> None:
        self.path = path
        self._live = live
        self._engine = engine
        self._scheduler = scheduler
        self._refresh = refresh
        self._load = load
        self._lock = asyncio.Lock()

    async def reload(self, *, actor: str) -> ReloadReport:
        """Read, validate and apply the file; return what changed (raises ConfigError, or
        RestartNeededError when the change only fits a restart; then nothing changed)."""
        if self.path is None:
            raise NotFromFileError("exwatch was not started from a config file (--config FILE)")
        async with self._lock:
            # Reading and validating is blocking work (file, YAML, pydantic): off the loop.
            loaded = await asyncio.to_thread(self._load, self.path)
            plan = plan_reload(self._live.current, loaded, source=str(self.path))
            if not plan.report.applied:
                log.info("config reload by %s: nothing changed", actor)
                return plan.report
            await self._engine.reconfigure(plan.config, _recorder(plan.report, actor))
            self._scheduler.reschedule(local_checks(plan.config))
            await self._refresh()
        log.info("config reloaded by %s: %s", actor, plan.report.as_json())
        return plan.report


def local_checks(config: Config) -> list[CheckConfig]:
    """The checks exwatch runs itself (agents run the other regions')."""
    return [c for c in config.checks if LOCAL_REGION in c.regions]


def _recorder(report: ReloadReport, actor: str) -> Record:
    """The timeline event of a reload, written in the engine's transaction."""

    async def record(session: AsyncSession, at: datetime) -> None:
        await append_event(
            session=session, at=at, kind=RELOADED_EVENT, actor=actor,
            reason=f"config reloaded from {report.source}", data=report.as_json(),
        )  # fmt: skip

    return record
