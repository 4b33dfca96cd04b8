"""Per-minute rollups of probe results, built in memory and written once each minute is over."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.sketch import LatencySketch

RollupKey = tuple[str, str, datetime]
"""(check id, region, start of the minute in UTC)."""


@dataclass
class MinuteRollup:
    """Count, failures and latency of one check in one region during one minute."""

    count: int = 0
    failures: int = 0
    latency_sum_ms: float = 0.0
    latency_min_ms: float | None = None
    latency_max_ms: float | None = None
    sketch: LatencySketch = field(default_factory=LatencySketch)

    def add(self, ok: bool, latency_ms: float) -> None:
        """Count one result."""
        self.count += 1
        self.failures += 0 if ok else 1
        self.latency_sum_ms += latency_ms
        self.latency_min_ms = (
            latency_ms if self.latency_min_ms is None else min(self.latency_min_ms, latency_ms)
        )
        self.latency_max_ms = (
            latency_ms if self.latency_max_ms is None else max(self.latency_max_ms, latency_ms)
        )
        self.sketch.add(latency_ms)

    def merge(self, other: MinuteRollup) -> None:
        """Fold another partial rollup of the same minute into this one."""
        self.count += other.count
        self.failures += other.failures
        self.latency_sum_ms += other.latency_sum_ms
        self.latency_min_ms = _pick(min, self.latency_min_ms, other.latency_min_ms)
        self.latency_max_ms = _pick(max, self.latency_max_ms, other.latency_max_ms)
        self.sketch.merge(other.sketch)


class RollupBuffer:
    """Collects rollups until their minute (plus a grace for late results) has passed."""

    def __init__(self, grace: timedelta = timedelta(seconds=10)) -> None:
        self._grace = grace
        self._open: dict[RollupKey, MinuteRollup] = {}

    def add(self, check_id: str, region: str, at: datetime, ok: bool, latency_ms: float) -> None:
        """Count one result in its minute."""
        key = (check_id, region, minute_of(at))
        self._open.setdefault(key, MinuteRollup()).add(ok, latency_ms)

    def restore(self, check_id: str, region: str, minute: datetime, rollup: MinuteRollup) -> None:
        """Put back a rollup that could not be written, merging with what came since."""
        key = (check_id, region, minute)
        if key in self._open:
            rollup.merge(self._open[key])
        self._open[key] = rollup

    def take_completed(self, now: datetime) -> dict[RollupKey, MinuteRollup]:
        """Remove and return the rollups whose minute ended more than the grace ago."""
        cutoff = now - self._grace - timedelta(minutes=1)
        done = {key: rollup for key, rollup in self._open.items() if key[2] <= cutoff}
        for key in done:
            del self._open[key]
        return done

    def take_all(self) -> dict[RollupKey, MinuteRollup]:
        """Remove and return everything, finished or not (at shutdown)."""
        everything, self._open = self._open, {}
        return everything


def minute_of(moment: datetime) -> datetime:
    """Return the start of ``moment``'s minute."""
    return moment.replace(second=0, microsecond=0)


def _pick(
    choose: Callable[[float, float], float], a: float | None, b: float | None
) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return choose(a, b)
