"""Reads the outbox needs: the events of a transaction and the public text of an update."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import incident_updates, timeline_events
from monitor.storage.timeline_reads import EventRow, event_from_row


@dataclass(frozen=True, slots=True)
class UpdateText:
    """One public incident update; ``first`` says it is the one that announced the incident."""

    id: int
    incident_id: int
    status: str
    body_ja: str
    body_en: str
    first: bool


async def events_by_ids(*, session: AsyncSession, ids: Sequence[int]) -> list[EventRow]:
    """Return the events with these ids, oldest first."""
    query = select(timeline_events).where(timeline_events.c.id.in_(list(ids)))
    rows = await session.execute(query.order_by(timeline_events.c.id))
    return [event_from_row(row) for row in rows]


async def update_text(*, session: AsyncSession, update_id: int) -> UpdateText | None:
    """Return one update with whether it was its incident's first, or None."""
    query = select(incident_updates).where(incident_updates.c.id == update_id)
    row = (await session.execute(query)).first()
    if row is None:
        return None
    first_id = await session.scalar(
        select(func.min(incident_updates.c.id)).where(
            incident_updates.c.incident_id == row.incident_id
        )
    )
    return UpdateText(
        id=row.id,
        incident_id=row.incident_id,
        status=row.status,
        body_ja=row.body_ja,
        body_en=row.body_en,
        first=first_id == row.id,
    )
