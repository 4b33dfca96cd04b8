"""Reads of the outbox for the console: deliveries that went wrong, and the events behind them.

"Failed" is not a stored status: it is a pending delivery whose last attempt failed and that
waits for its next one; "dead" is out of attempts (or failed for good) and waits for a person.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.deliveries import DEAD, PENDING, DeliveryRow
from monitor.storage.tables import deliveries, timeline_events

FAILED = "failed"
PROBLEMS = (FAILED, DEAD)
_COLUMNS = [deliveries.c[f.name] for f in fields(DeliveryRow)]


@dataclass(frozen=True, slots=True)
class EventFact:
    """The timeline event a delivery announces: its kind, when, and what it is about."""

    kind: str
    at: datetime
    incident_id: int | None
    maintenance_id: int | None


def _failed() -> ColumnElement[bool]:
    return and_(deliveries.c.status == PENDING, deliveries.c.last_error.is_not(None))


def _problem(status: str | None) -> ColumnElement[bool]:
    """Failed, dead, or (None) either."""
    if status == FAILED:
        return _failed()
    if status == DEAD:
        return deliveries.c.status == DEAD
    return or_(_failed(), deliveries.c.status == DEAD)


async def problem_deliveries(
    *, session: AsyncSession, status: str | None, channel: str | None, after_id: int, limit: int
) -> list[DeliveryRow]:
    """Failed and dead deliveries by id after ``after_id`` (of one kind and channel if given)."""
    query = select(*_COLUMNS).where(_problem(status), deliveries.c.id > after_id)
    if channel is not None:
        query = query.where(deliveries.c.channel == channel)
    rows = await session.execute(query.order_by(deliveries.c.id).limit(limit))
    return [DeliveryRow(**row) for row in rows.mappings()]


async def failed_counts(*, session: AsyncSession) -> dict[str, int]:
    """How many pending deliveries per channel have failed at least once (and wait to retry)."""
    query = (
        select(deliveries.c.channel, func.count()).where(_failed()).group_by(deliveries.c.channel)
    )
    return {str(channel): int(count) for channel, count in await session.execute(query)}


async def event_facts(*, session: AsyncSession, event_ids: Collection[int]) -> dict[int, EventFact]:
    """The events with these ids, by id."""
    if not event_ids:
        return {}
    query = select(
        timeline_events.c.id, timeline_events.c.kind, timeline_events.c.at,
        timeline_events.c.incident_id, timeline_events.c.maintenance_id,
    ).where(timeline_events.c.id.in_(list(event_ids)))  # fmt: skip
    return {
        int(row.id): EventFact(row.kind, row.at, row.incident_id, row.maintenance_id)
        for row in await session.execute(query)
    }
