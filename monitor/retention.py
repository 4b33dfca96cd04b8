"""Deletes raw results and rollups past their retention, in bounded batches so no lock is held long."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import Table
from sqlalchemy.exc import SQLAlchemyError

from monitor.clock import Clock
from monitor.config.models import Retention
from monitor.storage.database import Database
from monitor.storage.results import delete_older_than
from monitor.storage.tables import probe_results, probe_rollups, user_reports

log = logging.getLogger(__name__)
BATCH = 5000


class RetentionJob:
    """Every ``every`` seconds, trims probe_results, probe_rollups and user_reports to their ages."""

    def __init__(
        self, database: Database, retention: Retention, clock: Clock, every: float = 600.0
    ) -> None:
        self._database = database
        self._retention = retention
        self._clock = clock
        self._every = every
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Delete everything past retention now; return how many rows went."""
        now = self._clock.now()
        deleted = await self._trim(
            probe_results, "observed_at", now - timedelta(seconds=self._retention.raw)
        )
        deleted += await self._trim(
            probe_rollups, "minute", now - timedelta(seconds=self._retention.rollup)
        )
        deleted += await self._trim(
            user_reports, "created_at", now - timedelta(seconds=self._retention.user_reports)
        )
        return deleted

    def start(self) -> None:
        """Start trimming in the background."""
        self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        """Stop trimming."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _trim(self, table: Table, column: str, before: datetime) -> int:
        total = 0
        while True:
            async with self._database.transaction() as session:
                deleted = await delete_older_than(
                    session=session, table=table, column=column, before=before, limit=BATCH
                )
            total += deleted
            if deleted < BATCH:
                return total
            await asyncio.sleep(0)  # let probes run between batches

    async def _loop(self) -> None:
        while True:
            try:
                deleted = await self.run_once()
                if deleted:
                    log.info("retention: deleted %d old rows", deleted)
            except (SQLAlchemyError, OSError) as error:
                log.error("retention run failed, will retry: %s", error)
            await asyncio.sleep(self._every)
