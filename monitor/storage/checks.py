"""Each check's alert state per region: loaded at start, saved on every change of state."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerting import CheckState
from monitor.domain import AlertState
from monitor.storage.tables import check_regions

RegionKey = tuple[str, str]
"""(check id, region)."""


async def ensure_check_regions(*, session: AsyncSession, keys: Iterable[RegionKey]) -> None:
    """Create the state row of every (check, region) the config has and the table lacks."""
    existing = {
        (r.check_id, r.region)
        for r in await session.execute(select(check_regions.c.check_id, check_regions.c.region))
    }
    missing = [{"check_id": c, "region": r} for c, r in keys if (c, r) not in existing]
    if missing:
        await session.execute(insert(check_regions), missing)


async def forget_check_regions(*, session: AsyncSession, keep: Iterable[RegionKey]) -> None:
    """Delete the state of every (check, region) the config no longer has.

    A region removed and later added back must start from ok, not from the state it had then.
    """
    wanted = set(keep)
    rows = await session.execute(select(check_regions.c.check_id, check_regions.c.region))
    for check_id, region in [(r.check_id, r.region) for r in rows]:
        if (check_id, region) not in wanted:
            await session.execute(
                delete(check_regions).where(
                    check_regions.c.check_id == check_id, check_regions.c.region == region
                )
            )


async def load_region_states(*, session: AsyncSession) -> dict[RegionKey, CheckState]:
    """Return the stored alert state of every (check, region)."""
    rows = await session.execute(select(check_regions))
    return {
        (row.check_id, row.region): CheckState(
            AlertState(row.state), row.consecutive_failures, row.consecutive_successes
        )
        for row in rows
    }


async def save_region_state(
    *,
    session: AsyncSession,
    key: RegionKey,
    state: CheckState,
    ok: bool,
    error: str | None,
    at: datetime,
) -> None:
    """Store a (check, region)'s new alert state and a summary of its last run."""
    values = {
        "state": str(state.state), "consecutive_failures": state.failures,
        "consecutive_successes": state.successes, "last_run_at": at, "last_ok": ok, "last_error": error,
    }  # fmt: skip
    result = await session.execute(
        update(check_regions)
        .where(check_regions.c.check_id == key[0], check_regions.c.region == key[1])
        .values(**values)
    )
    if not getattr(result, "rowcount", 0):
        await session.execute(
            insert(check_regions).values(check_id=key[0], region=key[1], **values)
        )


async def reset_check_states(*, session: AsyncSession, check_ids: Iterable[str]) -> None:
    """Set every region of these checks back to ok (their alert was closed from outside)."""
    ids = list(check_ids)
    if ids:
        await session.execute(
            update(check_regions)
            .where(check_regions.c.check_id.in_(ids))
            .values(state=str(AlertState.OK), consecutive_failures=0, consecutive_successes=0)
        )
