"""Flap detection: an alert that changes state too often is held open instead of paging again."""

from __future__ import annotations

from collections import deque

from monitor.config.policies import Flapping


class FlapTracker:
    """Remembers when each check's alert last changed state (fired or recovered)."""

    def __init__(self) -> None:
        self._changes: dict[str, deque[float]] = {}

    def record(self, check_id: str, now: float, policy: Flapping) -> bool:
        """Count one state change at ``now``; True if the check is now flapping.

        Flapping means more than ``policy.changes`` changes within ``policy.window`` seconds.
        """
        changes = self._changes.setdefault(check_id, deque())
        changes.append(now)
        while changes and changes[0] < now - policy.window:
            changes.popleft()
        # Only the changes inside the window matter; keep the deque bounded by them.
        return len(changes) > policy.changes

    def seed(self, check_id: str, now: float) -> None:
        """Record a change at ``now`` without judging (a restart of a flapping alert)."""
        self._changes.setdefault(check_id, deque()).append(now)

    def quiet_for(self, check_id: str, now: float) -> float:
        """Seconds since the check's alert last changed state (infinite if never seen)."""
        changes = self._changes.get(check_id)
        return now - changes[-1] if changes else float("inf")
