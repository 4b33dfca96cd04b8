"""Receives heartbeat pushes: finds the check by its secret token and remembers when it pushed."""

from __future__ import annotations

import hashlib
import logging

from monitor.clock import Clock
from monitor.config import Config
from monitor.reload.live import ConfigSource, live_config
from monitor.storage.database import Database
from monitor.storage.heartbeats import last_pushes, record_push
from probes import HeartbeatSpec

log = logging.getLogger(__name__)


def _digest(token: str) -> str:
    # Tokens are looked up by their hash, so no comparison ever runs over the secret itself.
    return hashlib.sha256(token.encode()).hexdigest()


def _tokens(config: Config) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for check in config.checks:
        spec: object = check
        if isinstance(spec, HeartbeatSpec):
            found.append((check.id, spec.token.get_secret_value()))
    return found


class HeartbeatLedger:
    """Newest push per heartbeat check: kept in memory, written through to the database."""

    def __init__(self, database: Database, config: ConfigSource, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        # Follows a reload: a heartbeat check added to the file is known from then on.
        self._by_digest = live_config(config).derived(
            lambda c: {_digest(token): check_id for check_id, token in _tokens(c)}
        )
        self._last: dict[str, float] = {}

    async def load(self) -> None:
        """Read the newest pushes back after a restart."""
        async with self._database.transaction() as session:
            stored = await last_pushes(session=session)
        self._last = {check_id: at.timestamp() for check_id, at in stored.items()}

    async def push(self, token: str) -> str | None:
        """Record a push; return the check's id, or None for a token no check has."""
        check_id = self._by_digest().get(_digest(token))
        if check_id is None:
            return None
        at = self._clock.now()
        async with self._database.transaction() as session:
            await record_push(session=session, check_id=check_id, at=at)
        self._last[check_id] = at.timestamp()
        return check_id

    def last_push(self, token: str) -> float | None:
        """Return the epoch seconds of the newest push for ``token`` (the probe's view)."""
        check_id = self._by_digest().get(_digest(token))
        return None if check_id is None else self._last.get(check_id)
