"""Failed authentications per client in a sliding window: too many and the client waits."""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime

from monitor.clock import Clock

MAX_CLIENTS = 10_000


class FailureWindow:
    """Counts each client's failures over the last ``seconds``; ``limit`` of them blocks it."""

    def __init__(self, clock: Clock, *, limit: int = 20, seconds: float = 60.0) -> None:
        self._clock, self.limit, self.seconds = clock, limit, seconds
        self._failures: dict[str, deque[datetime]] = {}

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None when it is not blocked."""
        times = self._recent(client)
        if len(times) < self.limit:
            return None
        waited = (self._clock.now() - times[0]).total_seconds()
        return max(1, math.ceil(self.seconds - waited))

    def failed(self, client: str) -> None:
        """Count one failure of ``client``."""
        if client not in self._failures and len(self._failures) >= MAX_CLIENTS:
            self._forget_idle()
        self._recent(client).append(self._clock.now())

    def _recent(self, client: str) -> deque[datetime]:
        times = self._failures.setdefault(client, deque())
        now = self._clock.now()
        while times and (now - times[0]).total_seconds() >= self.seconds:
            times.popleft()
        return times

    def _forget_idle(self) -> None:
        """Drop clients without recent failures so the table stays bounded."""
        for client in list(self._failures):
            if not self._recent(client):
                del self._failures[client]
        if len(self._failures) >= MAX_CLIENTS:  # all busy: forget the oldest client
            del self._failures[next(iter(self._failures))]
