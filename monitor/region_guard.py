"""The connectivity guard: a region whose probes nearly all fail at once, across unrelated targets,
while other regions see those targets fine, has lost its own network — its failures are held back.

With a single region nothing is ever held back: from one vantage point a whole-exchange outage and
a lost uplink look the same, and missing a real outage is the worse mistake.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    """When a region counts as cut off."""

    window_s: float = 120.0
    min_checks: int = 10
    min_components: int = 3
    failing_ratio: float = 0.9
    # Another region failing less than this on the same checks proves the targets are up.
    healthy_peer_ratio: float = 0.5
    min_shared: int = 5  # checks both regions ran recently, before the peer's view counts
    recheck_s: float = 1.0


@dataclass(slots=True)
class _Last:
    ok: bool
    component: str
    at: float


class RegionGuard:
    """Remembers each region's newest result per check and judges whether the region is cut off."""

    def __init__(self, policy: GuardPolicy | None = None) -> None:
        self._policy = policy or GuardPolicy()
        self._last: dict[str, dict[str, _Last]] = {}
        self._judged: dict[str, tuple[float, bool]] = {}

    def observe(self, region: str, check_id: str, component: str, ok: bool, now: float) -> None:
        """Note one result."""
        self._last.setdefault(region, {})[check_id] = _Last(ok, component, now)

    def held_back(self, region: str, now: float) -> bool:
        """True when ``region`` looks cut off; judged at most every ``recheck_s`` per region.

        Judging scans the region's recent results; once per result it cost more than the probe.
        """
        cached = self._judged.get(region)
        if cached is not None and now - cached[0] < self._policy.recheck_s:
            return cached[1]
        verdict = self._judge(region, now)
        self._judged[region] = (now, verdict)
        return verdict

    def _judge(self, region: str, now: float) -> bool:
        if not self._cut_off_alone(region, now):
            return False
        mine = {check_id for check_id, item in self._recent_items(region, now)}
        return any(
            self._peer_sees_them_up(other, mine, now) for other in self._last if other != region
        )

    def _peer_sees_them_up(self, other: str, checks: set[str], now: float) -> bool:
        # Only the same checks are evidence: another region passing other targets proves nothing.
        shared = [item for check_id, item in self._recent_items(other, now) if check_id in checks]
        if len(shared) < self._policy.min_shared:
            return False
        return sum(not item.ok for item in shared) / len(shared) < self._policy.healthy_peer_ratio

    def _cut_off_alone(self, region: str, now: float) -> bool:
        recent = self._recent(region, now)
        components = {item.component for item in recent}
        if len(recent) < self._policy.min_checks or len(components) < self._policy.min_components:
            return False
        return self._failing_ratio(region, now) >= self._policy.failing_ratio

    def _failing_ratio(self, region: str, now: float) -> float:
        recent = self._recent(region, now)
        return sum(not item.ok for item in recent) / len(recent) if recent else 0.0

    def _recent(self, region: str, now: float) -> list[_Last]:
        return [item for _, item in self._recent_items(region, now)]

    def _recent_items(self, region: str, now: float) -> list[tuple[str, _Last]]:
        cutoff = now - self._policy.window_s
        return [(c, item) for c, item in self._last.get(region, {}).items() if item.at >= cutoff]
