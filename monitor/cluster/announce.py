"""Tells the api replicas that a change was committed: PostgreSQL NOTIFY on one channel.

NOTIFY is transactional: PostgreSQL queues it with the caller's transaction and delivers it
only at commit; a rollback drops it. So a replica never re-renders for a change that did not
happen, and never re-renders before the change is visible to it. On SQLite there is nobody to
tell (one process, or replicas that poll the timeline), so announcing is a no-op there.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.database import Database

CHANNEL = "exwatch_changes"
"""The LISTEN/NOTIFY channel the engine announces on and the replicas listen to."""

# One round trip: the payload carries the newest timeline id this transaction can see, so a
# replica's catch-up knows the change was announced and does not count it as missed.
_NOTIFY = text(
    "SELECT pg_notify(:channel, json_build_object('id', (SELECT max(id) FROM timeline_events))::text)"
)


async def announce(session: AsyncSession) -> None:
    """Announce a change inside the caller's transaction; sent at commit, dropped on rollback."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(_NOTIFY, {"channel": CHANNEL})


class Announcer:
    """Announces a change from outside any transaction (runs its own short one)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def __call__(self) -> None:
        """Announce now: a transaction that only notifies, committed at once."""
        if self._database.dialect != "postgresql":
            return
        async with self._database.transaction() as session:
            await announce(session)
