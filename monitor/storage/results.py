"""Probe results in batches, their per-minute rollups, and deleting what is past retention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.rollups import MinuteRollup, RollupKey
from monitor.sketch import LatencySketch
from monitor.storage.tables import check_regions, probe_results, probe_rollups


async def record_results(*, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many probe results at once (check_id, region, observed_at, ok, duration_ms, error, detail)."""
    if rows:
        await session.execute(insert(probe_results), list(rows))


async def record_check_runs(*, session: AsyncSession, runs: Sequence[Mapping[str, Any]]) -> None:
    """Store each (check, region)'s newest run and failure/success streaks."""
    if not runs:
        return
    statement = (
        update(check_regions)
        .where(
            check_regions.c.check_id == bindparam("run_check"),
            check_regions.c.region == bindparam("run_region"),
        )
        .values(
            last_run_at=bindparam("last_run_at"),
            last_ok=bindparam("last_ok"),
            last_error=bindparam("last_error"),
            consecutive_failures=bindparam("failures"),
            consecutive_successes=bindparam("successes"),
        )
    )
    await session.execute(statement.execution_options(synchronize_session=False), list(runs))


async def save_rollups(*, session: AsyncSession, rollups: Mapping[RollupKey, MinuteRollup]) -> None:
    """Write finished minutes; a minute already stored (e.g. before a restart) is merged, not replaced."""
    if not rollups:
        return
    existing = await _existing_rollups(session, list(rollups))
    fresh = [_rollup_row(key, rollup) for key, rollup in rollups.items() if key not in existing]
    if fresh:
        await session.execute(insert(probe_rollups), fresh)
    for key, stored in existing.items():
        stored.merge(rollups[key])
        await session.execute(
            update(probe_rollups)
            .where(*_key_clause(key))
            .values(**{k: v for k, v in _rollup_row(key, stored).items() if k not in _KEY})
        )


async def delete_older_than(
    *, session: AsyncSession, table: Table, column: str, before: datetime, limit: int
) -> int:
    """Delete at most ``limit`` rows of ``table`` with ``column`` < ``before``; return how many."""
    stamp = table.c[column]
    keys = [c for c in table.primary_key.columns]
    chosen = select(*keys).where(stamp < before).limit(limit)
    if len(keys) == 1:
        result = await session.execute(delete(table).where(keys[0].in_(chosen)))
    else:
        result = await session.execute(delete(table).where(tuple_(*keys).in_(chosen)))
    return int(getattr(result, "rowcount", 0) or 0)


_KEY = ("check_id", "region", "minute")


def _key_clause(key: RollupKey) -> list[Any]:
    return [
        probe_rollups.c.check_id == key[0],
        probe_rollups.c.region == key[1],
        probe_rollups.c.minute == key[2],
    ]


async def _existing_rollups(
    session: AsyncSession, keys: list[RollupKey]
) -> dict[RollupKey, MinuteRollup]:
    minutes = {key[2] for key in keys}
    rows = await session.execute(select(probe_rollups).where(probe_rollups.c.minute.in_(minutes)))
    wanted = set(keys)
    found: dict[RollupKey, MinuteRollup] = {}
    for row in rows:
        values = row._mapping  # "count" is also a method of a Row
        key = (values["check_id"], values["region"], values["minute"])
        if key in wanted:
            found[key] = MinuteRollup(
                values["count"],
                values["failures"],
                values["latency_sum_ms"],
                values["latency_min_ms"],
                values["latency_max_ms"],
                LatencySketch.from_json(values["sketch"]),
            )
    return found


def _rollup_row(key: RollupKey, rollup: MinuteRollup) -> dict[str, Any]:
    return {
        "check_id": key[0],
        "region": key[1],
        "minute": key[2],
        "count": rollup.count,
        "failures": rollup.failures,
        "latency_sum_ms": round(rollup.latency_sum_ms, 3),
        "latency_min_ms": rollup.latency_min_ms,
        "latency_max_ms": rollup.latency_max_ms,
        "sketch": rollup.sketch.to_json(),
    }


async def stored_result_keys(
    *, session: AsyncSession, region: str, keys: Sequence[tuple[str, datetime]]
) -> set[tuple[str, datetime]]:
    """Return which (check id, observed_at) of ``region`` are already stored."""
    if not keys:
        return set()
    rows = await session.execute(
        select(probe_results.c.check_id, probe_results.c.observed_at).where(
            probe_results.c.region == region,
            probe_results.c.observed_at.in_({at for _, at in keys}),
        )
    )
    wanted = set(keys)
    return {(row.check_id, row.observed_at) for row in rows} & wanted
