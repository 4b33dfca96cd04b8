"""SQLite's worker threads run under SCHED_BATCH, so they do not preempt the event loop."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.storage.database import Database

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling only")


async def test_every_pooled_connection_runs_its_statements_on_a_batch_thread(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'exwatch.db'}")
    try:
        seen: dict[int, int] = {}  # thread id → its scheduling policy, seen from inside it
        async with database.engine.connect() as first, database.engine.connect() as second:
            for connection in (first, second):
                raw = await connection.get_raw_connection()
                await raw.driver_connection.create_function("policy", 0, _record_policy(seen))  # type: ignore[union-attr]
                assert await connection.scalar(text("SELECT policy()")) == os.SCHED_BATCH
        assert len(seen) == 2  # two connections, two threads, each one switched
        assert threading.get_native_id() not in seen
        assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the loop's own thread is untouched
    finally:
        await database.close()


def _record_policy(seen: dict[int, int]) -> Callable[[], int]:
    """A SQL function that notes which thread runs it, and under which policy."""

    def policy() -> int:
        seen[threading.get_native_id()] = os.sched_getscheduler(0)
        return seen[threading.get_native_id()]

    return policy
