"""Console sessions: a sign-in with a token becomes a random cookie for a limited time.

Only the SHA-256 of the cookie is stored, with the SHA-256 of the token signed in with: every
request checks the token again, so revoking it (or rotating EXWATCH_ADMIN_TOKEN) ends its
sessions at once. A session ends after ``lifetime`` whatever happens, and after ``idle`` with
no request. Each session has its own CSRF token, which every form posts back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.admin.auth import AccessGuard, Identity
from monitor.clock import Clock
from monitor.storage.console_sessions import (
    SessionRow,
    create_session,
    delete_expired_sessions,
    delete_session,
    session_by_hash,
    touch_session,
)
from monitor.storage.database import Database

LIFETIME = timedelta(hours=12)  # one on-call shift
IDLE = timedelta(hours=2)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session: who it is, its CSRF token, and when it ends at the latest."""

    identity: Identity
    csrf: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Opened:
    """A new session: the cookie value to set (shown once) and the session itself."""

    cookie: str
    session: SignedIn


class ConsoleSessions:
    """Opens, resumes and ends console sessions, stored in the database."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        guard: AccessGuard,
        *,
        lifetime: timedelta = LIFETIME,
        idle: timedelta = IDLE,
    ) -> None:
        self._database, self._clock, self._guard = database, clock, guard
        self.lifetime, self.idle = lifetime, idle

    async def open(self, identity: Identity, token_digest: str) -> Opened:
        """Start a session for a caller the guard just authenticated with ``token_digest``."""
        cookie, now = secrets.token_urlsafe(32), self._clock.now()
        row = SessionRow(
            id_hash=_digest(cookie), token_hash=token_digest, actor=identity.actor,
            role=identity.role, csrf=secrets.token_urlsafe(32), created_at=now,
            last_seen_at=now, expires_at=now + self.lifetime,
        )  # fmt: skip
        async with self._database.transaction() as session:
            await delete_expired_sessions(session=session, before=now)
            await create_session(session=session, row=row)
        return Opened(cookie, SignedIn(identity, row.csrf, row.expires_at))

    async def resume(self, cookie: str) -> SignedIn | None:
        """The session of ``cookie`` if it is live and its token still opens the API."""
        if not cookie:
            return None
        now, id_hash = self._clock.now(), _digest(cookie)
        async with self._database.transaction() as session:
            row = await session_by_hash(session=session, id_hash=id_hash)
            if row is None or now >= row.expires_at or now - row.last_seen_at >= self.idle:
                return None
            if now - row.last_seen_at >= TOUCH_EVERY:
                await touch_session(session=session, id_hash=id_hash, at=now)
        identity = await self._guard.recheck(row.token_hash)
        if identity is None:
            return None
        return SignedIn(identity, row.csrf, row.expires_at)

    async def close(self, cookie: str) -> None:
        """End the session of ``cookie`` (sign out); unknown cookies are ignored."""
        async with self._database.transaction() as session:
            await delete_session(session=session, id_hash=_digest(cookie))


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()
