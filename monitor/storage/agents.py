"""Each region's agents: a heartbeat per fetch of the checks, and who is live now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import agents


async def record_agent(*, session: AsyncSession, region: str, agent_id: str, at: datetime) -> None:
    """Note that ``agent_id`` of ``region`` was seen at ``at`` (insert or move forward)."""
    builder = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    statement = builder(agents).values(region=region, agent_id=agent_id, last_seen_at=at)
    # Never backwards: replicas' clocks differ a little, and a slow request may land last.
    newer = agents.c.last_seen_at < statement.excluded.last_seen_at
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[agents.c.region, agents.c.agent_id],
            set_={"last_seen_at": statement.excluded.last_seen_at},
            where=newer,
        )
    )


async def live_agents(*, session: AsyncSession, region: str, since: datetime) -> list[str]:
    """Return the ids of ``region``'s agents seen at ``since`` or later, sorted."""
    rows = await session.scalars(
        select(agents.c.agent_id).where(agents.c.region == region, agents.c.last_seen_at >= since)
    )
    return sorted(rows)  # in Python: a database's collation may order ids otherwise


async def forget_agents(*, session: AsyncSession, before: datetime) -> int:
    """Delete the agents of every region last seen before ``before``; return how many went."""
    result = await session.execute(delete(agents).where(agents.c.last_seen_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
