"""Creating, listing and revoking API tokens, and reading the audit log (API and CLI)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.admin.tokens import ROLES, new_token, token_hash
from monitor.clock import Clock
from monitor.storage.api_tokens import NewToken, TokenRow, create_token, list_tokens, revoke_token
from monitor.storage.audit import AuditEntry, AuditRow, audit_page, latest_audit, record_audit
from monitor.storage.database import Database

MAX_NAME = 100


class TokenRequestError(ValueError):
    """A token cannot be made as asked (a bad name, role or expiry)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who acts outside the HTTP API (the CLI), for the audit log."""

    actor: str
    client: str


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """A new token: the only time its secret is known."""

    id: int
    name: str
    role: str
    token: str
    created_at: datetime
    expires_at: datetime | None


class TokenDesk:
    """The token and audit operations, over one database and clock."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database, self._clock = database, clock

    async def create(
        self, name: str, role: str, *, expires_in: float | None, caller: Caller | None = None
    ) -> CreatedToken:
        """Make a token; with a ``caller`` the creation is audited in the same transaction."""
        _check(name, role, expires_in)
        now, token = self._clock.now(), new_token()
        expires_at = None if expires_in is None else now + timedelta(seconds=expires_in)
        row = NewToken(name, role, token_hash(token), now, expires_at)
        async with self._database.transaction() as session:
            token_id = await create_token(session=session, token=row)
            if caller is not None:
                summary = {"id": token_id, "name": name, "role": role, "expires_at": expires_at}
                await record_audit(
                    session=session, entry=self._entry(caller, "tokens create", summary)
                )
        return CreatedToken(token_id, name, role, token, now, expires_at)

    async def revoke(self, token_id: int, *, caller: Caller | None = None) -> bool:
        """Revoke a token; False when there is none to revoke."""
        async with self._database.transaction() as session:
            done = await revoke_token(session=session, token_id=token_id, at=self._clock.now())
            if caller is not None:
                entry = self._entry(caller, "tokens revoke", {"id": token_id}, ok=done)
                await record_audit(session=session, entry=entry)
        return done

    async def tokens(self) -> list[TokenRow]:
        """Every token, oldest first."""
        async with self._database.transaction() as session:
            return await list_tokens(session=session)

    async def audit(self, *, after_id: int | None, limit: int) -> list[AuditRow]:
        """Audit entries after ``after_id`` (oldest first), or the newest ``limit`` without it."""
        async with self._database.transaction() as session:
            if after_id is None:
                return await latest_audit(session=session, limit=limit)
            return await audit_page(session=session, after_id=after_id, limit=limit)

    def _entry(
        self, caller: Caller, command: str, summary: dict[str, object], *, ok: bool = True
    ) -> AuditEntry:
        return AuditEntry(
            at=self._clock.now(), actor=caller.actor, role=None, method="CLI", route=command,
            summary=json.dumps(summary, default=str), client=caller.client,
            status=0 if ok else 1,
        )  # fmt: skip


def _check(name: str, role: str, expires_in: float | None) -> None:
    if not name.strip() or len(name) > MAX_NAME or not name.isprintable():
        raise TokenRequestError(f"name: give 1 to {MAX_NAME} printable characters")
    if role not in ROLES:
        raise TokenRequestError(f"role: one of {', '.join(ROLES)}")
    if expires_in is not None and expires_in <= 0:
        raise TokenRequestError("expires: give a positive duration such as 90d")
