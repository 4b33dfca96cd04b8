"""Writes probe results in batches: raw rows, each check's last run, and finished minute rollups.

Storage is the ceiling at 10,000 checks (DESIGN.md), so results never cost a transaction each.
A failed write keeps the batch for the next attempt; past ``max_buffer`` rows the oldest are
dropped and counted, never lost silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from monitor.alerting import CheckState
from monitor.clock import Clock
from monitor.config import CheckConfig
from monitor.rollups import RollupBuffer
from monitor.storage.database import Database
from monitor.storage.results import record_check_runs, record_results, save_rollups
from probes import ProbeResult

log = logging.getLogger(__name__)


class ResultWriter:
    """Buffers results and flushes them every ``flush_every`` seconds or ``max_batch`` rows."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        flush_every: float = 1.0,
        max_batch: int = 5000,
        max_buffer: int = 200_000,
        *,
        on_dropped: Callable[[int], None] = lambda count: None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._flush_every = flush_every
        self._max_batch = max_batch
        self._rows: deque[dict[str, Any]] = deque(maxlen=max_buffer)
        self._runs: dict[tuple[str, str], dict[str, Any]] = {}
        self._rollups = RollupBuffer()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self._on_dropped = on_dropped  # e.g. a Prometheus counter's ``inc``: drops are visible
        self._stopping = False

    def add(
        self,
        check: CheckConfig,
        result: ProbeResult,
        at: datetime,
        state: CheckState,
        region: str = "local",
    ) -> None:
        """Queue one result for the next flush."""
        at = at.astimezone(UTC)  # minutes of results from every region line up
        if len(self._rows) == self._rows.maxlen:
            self._drop(1)  # the deque drops the oldest row
        duration_ms = round(result.duration_s * 1000, 3)
        self._rows.append(
            {
                "check_id": check.id, "region": region, "observed_at": at, "ok": result.ok,
                "duration_ms": duration_ms, "error": result.failure_reason, "detail": result.to_json(),
            }
        )  # fmt: skip
        self._runs[(check.id, region)] = {
            "run_check": check.id, "run_region": region, "last_run_at": at, "last_ok": result.ok,
            "last_error": result.failure_reason, "failures": state.failures, "successes": state.successes,
        }  # fmt: skip
        self._rollups.add(check.id, region, at, result.ok, duration_ms)
        if len(self._rows) >= self._max_batch:
            self._full.set()

    @property
    def pending(self) -> int:
        """Rows waiting for the next flush."""
        return len(self._rows)

    async def flush(self, *, everything: bool = False) -> bool:
        """Write what is queued in one transaction; True on success (on failure it stays queued)."""
        rows = [self._rows.popleft() for _ in range(min(len(self._rows), self._max_batch))]
        runs, self._runs = self._runs, {}
        rollups = (
            self._rollups.take_all()
            if everything
            else self._rollups.take_completed(self._clock.now())
        )
        try:
            async with self._database.transaction() as session:
                await record_results(session=session, rows=rows)
                await record_check_runs(session=session, runs=list(runs.values()))
                await save_rollups(session=session, rollups=rollups)
        except (SQLAlchemyError, OSError) as error:
            log.error("%d results not written yet, will retry: %s", len(rows), _reason(error))
            self._requeue(rows, runs, rollups)
            return False
        return True

    def start(self) -> None:
        """Start flushing in the background."""
        self._task = asyncio.create_task(self._loop(), name="result-writer")

    async def stop(self) -> None:
        """Stop the loop and write everything still queued, partial minutes included."""
        if self._task is not None:
            # Never cancel a flush half-way: the rows it took would be lost. Ask the loop to end.
            self._stopping = True
            self._full.set()
            await self._task
            self._task = None
        while await self.flush(everything=True) and (self._rows or self._runs):
            pass

    async def _loop(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), timeout=self._flush_every)
            self._full.clear()
            if self._stopping:
                return
            try:
                await self.flush()
            except Exception:  # keep flushing whatever one batch did
                log.exception("result flush failed")

    def _drop(self, count: int) -> None:
        self.dropped += count
        self._on_dropped(count)

    def _requeue(
        self,
        rows: list[dict[str, Any]],
        runs: dict[tuple[str, str], dict[str, Any]],
        rollups: Any,
    ) -> None:
        room = (self._rows.maxlen or 0) - len(self._rows)
        if len(rows) > room:  # keep the newest; the oldest are dropped and counted
            self._drop(len(rows) - room)
            rows = rows[len(rows) - room :] if room > 0 else []
        self._rows.extendleft(reversed(rows))
        self._runs = {**runs, **self._runs}
        for (check_id, region, _minute), rollup in rollups.items():
            self._rollups.restore(check_id, region, _minute, rollup)


def _reason(error: Exception) -> object:
    """The driver's own message: SQLAlchemy's repeats the whole statement and its parameters."""
    return getattr(error, "orig", None) or error
