"""Bearer-token access with roles for the admin API and Alertmanager.

A caller is either the operator's ``EXWATCH_ADMIN_TOKEN`` (role admin, actor ``admin``) or a
stored API token that is neither expired nor revoked (actor ``token:NAME``). Each route needs a
role; a weaker one is 403. Tokens are compared as SHA-256 hashes with ``hmac.compare_digest``.
Each client's failed attempts are counted: past the limit it is answered 429 for a while.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from monitor.admin.failures import FailureWindow
from monitor.admin.tokens import ADMIN, TOKEN_PREFIX, Role, role_allows, token_hash
from monitor.clock import Clock
from monitor.security.client_address import DIRECT, ClientAddress
from monitor.storage.api_tokens import mark_used, token_by_hash, usable_token_exists
from monitor.storage.database import Database

log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False, description="an API token or EXWATCH_ADMIN_TOKEN")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
IDENTITY = "exwatch_identity"
"""The key of the caller's ``Identity`` in ``request.state`` (the audit log reads it)."""
USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token
Dependency = Callable[[Request, HTTPAuthorizationCredentials | None], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the caller is and the role it holds."""

    actor: str
    role: str


class AccessGuard:
    """Authenticates bearer tokens and hands out one dependency per role."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        admin_token: str | None,
        failures: FailureWindow | None = None,
        client_address: ClientAddress = DIRECT,
    ) -> None:
        self._database, self._clock = database, clock
        self.client_address = client_address  # failures count per client, behind proxies too
        self._admin_hash = token_hash(admin_token) if admin_token else None
        self.failures = failures or FailureWindow(clock)
        self._dependencies: dict[Role, Dependency] = {}

    def require(self, role: Role) -> Dependency:
        """Return the dependency admitting callers holding ``role`` or more; it names the caller."""
        if role not in self._dependencies:
            self._dependencies[role] = self._dependency(role)
        return self._dependencies[role]

    def _dependency(self, role: Role) -> Dependency:
        async def require_role(request: Request, credentials: Credentials) -> str:
            await self.identify(request, credentials)
            return granted(request, role)

        require_role.__name__ = f"require_{role}"
        return require_role

    async def identify(
        self, request: Request, credentials: HTTPAuthorizationCredentials | None
    ) -> Identity:
        """Return the caller (once per request), or raise 401, 429 or 503."""
        known = getattr(request.state, IDENTITY, None)
        if isinstance(known, Identity):
            return known
        client = self.client_address(request) or "unknown"
        wait = self.failures.retry_after(client)
        if wait is not None:
            raise HTTPException(
                429, f"too many failed attempts; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )  # fmt: skip
        identity = await self._authenticate("" if credentials is None else credentials.credentials)
        if identity is None:
            raise await self._refusal(client)
        setattr(request.state, IDENTITY, identity)
        return identity

    async def recheck(self, digest: str) -> Identity | None:
        """Who holds the token hashing to ``digest`` now, or None if it no longer opens anything.

        The console stores this hash with each session and checks it on every request.
        """
        if self._admin_hash is not None and hmac.compare_digest(digest, self._admin_hash):
            return Identity("admin", ADMIN)
        return await self._stored(digest)

    async def _authenticate(self, presented: str) -> Identity | None:
        if not presented:
            return None
        digest = token_hash(presented)
        # Hashes compared in constant time: the time taken tells nothing of how close a guess was.
        if self._admin_hash is not None and hmac.compare_digest(digest, self._admin_hash):
            return Identity("admin", ADMIN)
        if not presented.startswith(TOKEN_PREFIX):
            return None
        return await self._stored(digest)

    async def _stored(self, digest: str) -> Identity | None:
        now = self._clock.now()
        try:
            async with self._database.transaction() as session:
                row = await token_by_hash(session=session, token_hash=digest)
                if row is None or not hmac.compare_digest(row.token_hash, digest):
                    return None
                if not row.usable(now):
                    return None
                if row.last_used_at is None or now - row.last_used_at >= USED_EVERY:
                    await mark_used(session=session, token_id=row.id, at=now)
        except (SQLAlchemyError, OSError):
            raise _unavailable() from None
        return Identity(f"token:{row.name}", row.role)

    async def _refusal(self, client: str) -> HTTPException:
        """503 while no token can open the API, else 401 (counted against the client)."""
        if self._admin_hash is None and not await self._any_stored_token():
            return HTTPException(
                503,
                "the admin API is off: set EXWATCH_ADMIN_TOKEN or create a token with "
                "`exwatch tokens create`",
            )
        self.failures.failed(client)
        log.info("admin API: a failed authentication from %s", client)
        return HTTPException(
            401, "missing, wrong, expired or revoked bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip

    async def _any_stored_token(self) -> bool:
        try:
            async with self._database.transaction() as session:
                return await usable_token_exists(session=session, at=self._clock.now())
        except (SQLAlchemyError, OSError):
            raise _unavailable() from None


def granted(request: Request, role: Role) -> str:
    """Name the caller a guard already identified, or raise 403 if it holds less than ``role``."""
    identity = getattr(request.state, IDENTITY)
    if not role_allows(identity.role, role):
        raise HTTPException(403, f"this needs the {role} role; the token is a {identity.role}")
    return str(identity.actor)


def _unavailable() -> HTTPException:
    return HTTPException(503, "the database is not answering; try again")
