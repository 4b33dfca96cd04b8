"""The engine's clock tick: time-driven work (escalation, reminders, auto-resolve, maintenance).

Each job is an ``async (now) -> None`` registered by name; a tick runs them in order. Tests call
``tick()`` with a fake clock instead of waiting for the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from monitor.clock import Clock
from monitor.write_refused import WriteRefusedError

log = logging.getLogger(__name__)
Job = Callable[[datetime], Awaitable[object]]


class Ticker:
    """Runs every registered job every ``every`` seconds; one failing job never stops the rest."""

    def __init__(self, clock: Clock, every: float = 5.0) -> None:
        self._clock = clock
        self._every = every
        self._jobs: dict[str, Job] = {}
        self._task: asyncio.Task[None] | None = None

    def register(self, name: str, job: Job) -> None:
        """Add a job; registering a name twice is a wiring mistake."""
        if name in self._jobs:
            raise ValueError(f"ticker job {name!r} is registered twice")
        self._jobs[name] = job

    async def tick(self) -> None:
        """Run every job once at the clock's now."""
        now = self._clock.now()
        for name, job in self._jobs.items():
            try:
                await job(now)
            except (SQLAlchemyError, OSError) as error:  # an outage: one line, not a traceback
                log.error("ticker job %s failed; it runs again next tick: %s", name, _reason(error))
            except WriteRefusedError as error:  # deposed: the new leader's ticker runs it
                log.warning("ticker job %s not run: %s", name, error)
                return
            except Exception:  # a bug in one job must not stop escalation either
                log.exception("ticker job %s failed; it runs again next tick", name)

    def start(self) -> None:
        """Tick in the background."""
        self._task = asyncio.create_task(self._loop(), name="ticker")

    async def stop(self) -> None:
        """Stop ticking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(self._every)


def _reason(error: Exception) -> object:
    """The driver's own message: SQLAlchemy's repeats the whole statement and its parameters."""
    return getattr(error, "orig", None) or error
