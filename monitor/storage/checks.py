"""Reading and saving a check's alert state, and recording its probe results."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerting import CheckState
from monitor.domain import AlertState
from monitor.storage.tables import alerts, checks
from probes import ProbeResult


async def load_check_states(*, session: AsyncSession) -> dict[str, CheckState]:
    """Return the stored alert state of every active check."""
    rows = await session.execute(
        select(
            checks.c.id,
            checks.c.state,
            checks.c.consecutive_failures,
            checks.c.consecutive_successes,
        ).where(checks.c.active.is_(True))
    )
    return {
        row.id: CheckState(
            AlertState(row.state), row.consecutive_failures, row.consecutive_successes
        )
        for row in rows
    }


async def save_check_state(
    *, session: AsyncSession, check_id: str, state: CheckState, result: ProbeResult, at: datetime
) -> None:
    """Store the check's new alert state and a summary of its last run."""
    await session.execute(
        update(checks)
        .where(checks.c.id == check_id)
        .values(
            state=str(state.state),
            consecutive_failures=state.failures,
            consecutive_successes=state.successes,
            last_run_at=at,
            last_ok=result.ok,
            last_error=result.failure_reason,
        )
    )


async def reset_orphan_check_states(*, session: AsyncSession) -> None:
    """Set checks that claim an open alert but have no firing alert back to ok."""
    firing = select(alerts.c.check_id).where(
        alerts.c.status == "firing", alerts.c.check_id.is_not(None)
    )
    await session.execute(
        update(checks)
        .where(
            checks.c.state.in_([str(AlertState.FIRING), str(AlertState.RECOVERING)]),
            checks.c.id.not_in(firing),
        )
        .values(state=str(AlertState.OK), consecutive_failures=0, consecutive_successes=0)
    )
