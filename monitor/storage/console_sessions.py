"""Console sessions: rows keyed by the SHA-256 of the cookie, never the cookie itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import console_sessions


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One signed-in console session."""

    id_hash: str
    token_hash: str
    actor: str
    role: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


async def create_session(*, session: AsyncSession, row: SessionRow) -> None:
    """Store a new console session."""
    values = {name: getattr(row, name) for name in SessionRow.__slots__}
    await session.execute(insert(console_sessions).values(values))


async def session_by_hash(*, session: AsyncSession, id_hash: str) -> SessionRow | None:
    """Return the session whose cookie hashes to ``id_hash``, if any."""
    row = (
        await session.execute(select(console_sessions).where(console_sessions.c.id_hash == id_hash))
    ).first()
    return None if row is None else SessionRow(**row._mapping)


async def touch_session(*, session: AsyncSession, id_hash: str, at: datetime) -> None:
    """Record activity on a session (its idle timeout counts from here)."""
    await session.execute(
        update(console_sessions)
        .where(console_sessions.c.id_hash == id_hash)
        .values(last_seen_at=at)
    )


async def delete_session(*, session: AsyncSession, id_hash: str) -> None:
    """End one session (sign out)."""
    await session.execute(delete(console_sessions).where(console_sessions.c.id_hash == id_hash))


async def delete_expired_sessions(*, session: AsyncSession, before: datetime) -> int:
    """Remove sessions that expired before ``before``; return how many."""
    result = await session.execute(
        delete(console_sessions).where(console_sessions.c.expires_at < before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
