"""Postmortems: one Markdown document per incident, its authors, and when it was published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import IncidentStatus
from monitor.storage.tables import incidents, postmortems
from monitor.views import PostmortemView


@dataclass(frozen=True, slots=True)
class PostmortemRow:
    """An incident's postmortem as stored: the text, who saved it last, who published it."""

    incident_id: int
    markdown: str
    updated_at: datetime
    updated_by: str
    published_at: datetime | None = None
    published_by: str | None = None

    @property
    def is_published(self) -> bool:
        """True once it is on the public page."""
        return self.published_at is not None


async def incident_status(
    *, session: AsyncSession, incident_id: int, lock: bool = False
) -> str | None:
    """Return the incident's status, None if there is no such incident.

    With ``lock`` its row stays locked until commit (PostgreSQL), so the engine cannot reopen
    the incident between a check and the write that depends on it; foreign keys to the row
    (timeline events) are not held up.
    """
    query = select(incidents.c.status).where(incidents.c.id == incident_id)
    if lock:
        query = query.with_for_update(key_share=True)
    status: str | None = (await session.execute(query)).scalar_one_or_none()
    return status


async def get_postmortem(*, session: AsyncSession, incident_id: int) -> PostmortemRow | None:
    """Return the incident's postmortem, or None when none was written."""
    row = (
        await session.execute(select(postmortems).where(postmortems.c.incident_id == incident_id))
    ).one_or_none()
    return None if row is None else _row(row)


async def save_postmortem(
    *, session: AsyncSession, incident_id: int, markdown: str, actor: str, at: datetime
) -> PostmortemRow:
    """Write the incident's postmortem text (insert or replace) and return the row.

    A publication is kept: saving a published postmortem changes the published text.
    """
    builder = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    values = {"body_markdown": markdown, "updated_at": at, "updated_by": actor}
    statement = (
        builder(postmortems)
        .values(incident_id=incident_id, **values)
        .on_conflict_do_update(index_elements=[postmortems.c.incident_id], set_=values)
        .returning(*postmortems.c)
    )
    return _row((await session.execute(statement)).one())


async def mark_published(
    *, session: AsyncSession, incident_id: int, actor: str, at: datetime
) -> PostmortemRow | None:
    """Publish the incident's postmortem and return it; None when there is none to publish
    (none written, or already published)."""
    row = (
        await session.execute(
            update(postmortems)
            .where(postmortems.c.incident_id == incident_id, postmortems.c.published_at.is_(None))
            .values(published_at=at, published_by=actor)
            .returning(*postmortems.c)
        )
    ).one_or_none()
    return None if row is None else _row(row)


async def published_postmortems(
    *, session: AsyncSession, incident_ids: set[int] | None = None
) -> dict[int, PostmortemView]:
    """Return the public postmortems (published, of resolved incidents) by incident id.

    ``incident_ids`` narrows the read; None reads every one (the history). A postmortem of an
    incident that was reopened stays off the page until the incident is resolved again.
    """
    query = (
        select(postmortems.c.incident_id, postmortems.c.body_markdown, postmortems.c.published_at)
        .join(incidents, incidents.c.id == postmortems.c.incident_id)
        .where(
            postmortems.c.published_at.is_not(None),
            incidents.c.status == str(IncidentStatus.RESOLVED),
        )
    )
    if incident_ids is not None:
        query = query.where(postmortems.c.incident_id.in_(incident_ids))
    rows = await session.execute(query)
    return {
        row.incident_id: PostmortemView(markdown=row.body_markdown, published_at=row.published_at)
        for row in rows
    }


def _row(row: Any) -> PostmortemRow:
    return PostmortemRow(
        incident_id=row.incident_id,
        markdown=row.body_markdown,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        published_at=row.published_at,
        published_by=row.published_by,
    )
