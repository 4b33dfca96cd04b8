"""API tokens: stored by the SHA-256 of the token, never the token itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import api_tokens


@dataclass(frozen=True, slots=True)
class TokenRow:
    """One stored token (its hash stays in the database)."""

    id: int
    name: str
    role: str
    token_hash: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def usable(self, at: datetime) -> bool:
        """Whether the token opens anything at ``at``: not revoked and not expired."""
        return self.revoked_at is None and (self.expires_at is None or at < self.expires_at)


@dataclass(frozen=True, slots=True)
class NewToken:
    """What a new token row holds."""

    name: str
    role: str
    token_hash: str
    created_at: datetime
    expires_at: datetime | None


async def create_token(*, session: AsyncSession, token: NewToken) -> int:
    """Store a new token's hash and return its id."""
    values = {
        "name": token.name, "role": token.role, "token_hash": token.token_hash,
        "created_at": token.created_at, "expires_at": token.expires_at,
    }  # fmt: skip
    result = await session.execute(insert(api_tokens).values(values).returning(api_tokens.c.id))
    return int(result.scalar_one())


async def token_by_hash(*, session: AsyncSession, token_hash: str) -> TokenRow | None:
    """Return the token whose hash is ``token_hash``, if any."""
    row = (
        await session.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash))
    ).first()
    return None if row is None else TokenRow(**row._mapping)


async def list_tokens(*, session: AsyncSession) -> list[TokenRow]:
    """Return every token, oldest first."""
    rows = await session.execute(select(api_tokens).order_by(api_tokens.c.id))
    return [TokenRow(**row._mapping) for row in rows]


async def revoke_token(*, session: AsyncSession, token_id: int, at: datetime) -> bool:
    """Revoke a token; False when there is no such token or it was already revoked."""
    result = await session.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_used(*, session: AsyncSession, token_id: int, at: datetime) -> None:
    """Record that the token was used at ``at``."""
    await session.execute(
        update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at)
    )


async def usable_token_exists(*, session: AsyncSession, at: datetime) -> bool:
    """Whether any token is neither revoked nor expired at ``at``."""
    usable = (api_tokens.c.revoked_at.is_(None)) & (
        api_tokens.c.expires_at.is_(None) | (api_tokens.c.expires_at > at)
    )
    count = await session.scalar(select(func.count()).select_from(api_tokens).where(usable))
    return bool(count)
