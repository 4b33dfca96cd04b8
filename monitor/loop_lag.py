"""Measures event-loop lag: how late a sleep wakes up. A busy loop makes probes measure themselves."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable


class LoopLagMonitor:
    """Sleeps ``interval`` seconds over and over and reports how late each wake-up was."""

    def __init__(self, report: Callable[[float], None], interval: float = 0.5) -> None:
        self._report = report
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start measuring in the background."""
        self._task = asyncio.create_task(self._run(), name="loop-lag")

    async def stop(self) -> None:
        """Stop measuring."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self._interval)
            self._report(max(0.0, time.perf_counter() - before - self._interval))
