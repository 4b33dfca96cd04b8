"""Posting a public, bilingual incident update, with its timeline event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import IncidentStatus
from monitor.storage.incidents import add_update
from monitor.storage.timeline import append_event


async def post_update(
    session: AsyncSession,
    incident_id: int,
    status: IncidentStatus,
    text: dict[str, str],
    at: datetime,
    *,
    actor: str = "engine",
    affected_components: list[dict[str, Any]] | None = None,
) -> int:
    """Post an update in both languages and record ``update_posted``; return the update's id."""
    update_id = await add_update(
        session=session,
        incident_id=incident_id,
        status=status,
        body_ja=text["ja"],
        body_en=text["en"],
        at=at,
        affected_components=affected_components,
    )
    await append_event(
        session=session,
        at=at,
        kind="update_posted",
        incident_id=incident_id,
        actor=actor,
        data={"update_id": update_id, "status": str(status)},
    )
    return update_id
