"""Batched results, per-minute rollups, retention and the schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, select

from monitor import retention as retention_module
from monitor.alerting import CheckState
from monitor.config.models import Retention
from monitor.result_writer import ResultWriter
from monitor.retention import RetentionJob
from monitor.sketch import LatencySketch
from monitor.storage.database import Database
from monitor.storage.tables import (
    check_regions,
    metadata,
    probe_results,
    probe_rollups,
    user_reports,
)
from probes import ProbeResult
from tests.support import START, UNREACHABLE_DATABASE_URL, FakeClock
from tests.test_engine import Harness, make_config, started


def result(ok: bool, ms: float) -> ProbeResult:
    return ProbeResult(ok=ok, duration_s=ms / 1000, error=None if ok else "down")


async def count(database: Database, table: object, *where: object) -> int:
    async with database.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(table).where(*where)) or 0)  # type: ignore[arg-type]


async def test_the_migrations_build_exactly_the_declared_schema(database: Database) -> None:
    async with database.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), metadata)
        )
    assert diff == []


async def test_results_are_written_in_batches_with_minute_rollups(
    database: Database, clock: FakeClock
) -> None:
    h = await started(database, make_config(), clock)
    check = next(c for c in h.config.checks if c.id == "api-check")
    writer = ResultWriter(database, clock)
    for second, (ok, ms) in enumerate([(True, 10.0), (True, 30.0), (False, 900.0), (True, 20.0)]):
        clock.current = START + timedelta(
            seconds=20 * second
        )  # 0, 20, 40 s, then 60 s: next minute
        writer.add(check, result(ok, ms), clock.now(), CheckState())
    assert await count(database, probe_results) == 0  # nothing written before a flush
    clock.current = START + timedelta(seconds=65)  # the first minute is over, but not its grace
    assert await writer.flush()
    assert await count(database, probe_results) == 4
    assert await count(database, probe_rollups) == 0
    clock.current = START + timedelta(seconds=75)
    assert await writer.flush()
    async with database.transaction() as s:
        [row] = (await s.execute(select(probe_rollups))).all()
        last = await s.scalar(
            select(check_regions.c.last_run_at).where(check_regions.c.check_id == check.id)
        )
    values = row._mapping
    assert (values["count"], values["failures"]) == (3, 1)
    assert (values["latency_min_ms"], values["latency_max_ms"], values["latency_sum_ms"]) == (
        10.0,
        900.0,
        940.0,
    )
    assert LatencySketch.from_json(values["sketch"]).quantile(1.0) == pytest.approx(900, rel=0.02)
    assert last == START + timedelta(seconds=60)
    await writer.stop()  # the unfinished minute is written at shutdown
    assert await count(database, probe_rollups) == 2


async def test_a_minute_written_twice_is_merged(database: Database, clock: FakeClock) -> None:
    h = await started(database, make_config(), clock)
    check = h.config.checks[0]
    for latency in (5.0, 50.0):
        writer = ResultWriter(database, clock)  # e.g. before and after a restart
        writer.add(check, result(True, latency), START, CheckState())
        await writer.stop()
    async with database.transaction() as s:
        [row] = (await s.execute(select(probe_rollups))).all()
    assert (
        row._mapping["count"],
        row._mapping["latency_min_ms"],
        row._mapping["latency_max_ms"],
    ) == (2, 5.0, 50.0)


async def test_a_failed_write_keeps_the_batch_and_a_full_buffer_drops_the_oldest(
    clock: FakeClock,
) -> None:
    unreachable = Database(UNREACHABLE_DATABASE_URL)
    writer = ResultWriter(unreachable, clock, max_buffer=3)
    check = make_config().checks[0]
    for latency in (1.0, 2.0, 3.0, 4.0):
        writer.add(check, result(True, latency), START, CheckState())
    assert (writer.pending, writer.dropped) == (3, 1)
    assert not await writer.flush()
    assert (writer.pending, writer.dropped) == (
        3,
        1,
    )  # kept for the next attempt, nothing more lost
    await unreachable.close()


async def test_retention_deletes_old_rows_in_batches(
    database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention_module, "BATCH", 7)
    old, new = START - timedelta(days=8), START - timedelta(days=6)
    rows = [
        {"check_id": "c", "observed_at": at, "ok": True, "duration_ms": 1.0}
        for at in [old] * 20 + [new] * 5
    ]
    async with database.transaction() as s:
        await s.execute(insert(probe_results), rows)
    job = RetentionJob(database, Retention(), clock)
    assert await job.run_once() == 20
    assert await count(database, probe_results) == 5


async def test_retention_forgets_user_reports_after_their_age(
    database: Database, clock: FakeClock
) -> None:
    rows = [
        {"component_id": "login", "body": "cannot log in", "contact": "a@example.com",
         "client": "h" * 64, "created_at": START - timedelta(days=days)}
        for days in (91, 89)
    ]  # fmt: skip
    async with database.transaction() as s:
        await s.execute(insert(user_reports), rows)
    assert await RetentionJob(database, Retention(), clock).run_once() == 1
    assert await count(database, user_reports) == 1


async def test_pending_counts_survive_a_restart(database: Database, clock: FakeClock) -> None:
    h = await started(database, make_config(), clock)
    await h.feed("login-check", _fail())  # one failure of two: pending
    await h.writer.stop()
    restarted = Harness(database, make_config(), clock)
    await restarted.engine.start()
    await restarted.feed("login-check", _fail())  # the second failure fires
    [incident] = await restarted.incidents()
    assert incident.severity == "critical"


def _fail() -> ProbeResult:
    return result(False, 5.0)
