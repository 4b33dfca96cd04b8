"""Problem reports from the public: stored, counted per component and per client, listed to SREs.

``client`` is always a keyed hash of the sender's address (see ``monitor.reports.limits``);
the address itself is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import user_reports


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One stored report, as SREs see it."""

    id: int
    component_id: str
    body: str
    contact: str | None
    client: str
    created_at: datetime


async def record_report(
    *,
    session: AsyncSession,
    component_id: str,
    body: str,
    contact: str | None,
    client: str,
    at: datetime,
) -> int:
    """Store one report and return its id."""
    result = await session.execute(
        insert(user_reports)
        .values(component_id=component_id, body=body, contact=contact, client=client, created_at=at)
        .returning(user_reports.c.id)
    )
    return int(result.scalar_one())


async def client_report_times(
    *, session: AsyncSession, client: str, since: datetime
) -> list[datetime]:
    """Return when ``client`` sent each report after ``since``, oldest first."""
    rows = await session.execute(
        select(user_reports.c.created_at)
        .where(user_reports.c.client == client, user_reports.c.created_at > since)
        .order_by(user_reports.c.created_at)
    )
    return list(rows.scalars())


async def count_component_reports(
    *, session: AsyncSession, component_id: str, since: datetime
) -> int:
    """Return how many reports about one component arrived after ``since``."""
    count = await session.scalar(
        select(func.count())
        .select_from(user_reports)
        .where(user_reports.c.component_id == component_id, user_reports.c.created_at > since)
    )
    return int(count or 0)


async def report_counts(
    *, session: AsyncSession, since: datetime, component_id: str | None = None
) -> dict[str, int]:
    """Return the number of reports after ``since`` per component (optionally of one)."""
    query = (
        select(user_reports.c.component_id, func.count())
        .where(user_reports.c.created_at > since)
        .group_by(user_reports.c.component_id)
    )
    if component_id is not None:
        query = query.where(user_reports.c.component_id == component_id)
    return {str(row[0]): int(row[1]) for row in await session.execute(query)}


async def list_reports(
    *, session: AsyncSession, since: datetime, component_id: str | None = None, limit: int = 100
) -> list[ReportRow]:
    """Return the newest ``limit`` reports after ``since`` (optionally of one component)."""
    query = select(user_reports).where(user_reports.c.created_at > since)
    if component_id is not None:
        query = query.where(user_reports.c.component_id == component_id)
    query = query.order_by(user_reports.c.created_at.desc(), user_reports.c.id.desc()).limit(limit)
    return [_report_row(row) for row in await session.execute(query)]


def _report_row(row: Any) -> ReportRow:
    return ReportRow(
        id=int(row.id),
        component_id=row.component_id,
        body=row.body,
        contact=row.contact,
        client=row.client,
        created_at=row.created_at,
    )
