"""A mergeable latency sketch: log-spaced buckets, stored sparse, quantiles within 2 %.

Why not a library: DDSketch's Python package serializes its dense store (~3 KB for five
samples); a check-minute holds at most 60 samples, so a sparse ``{bucket: count}`` map of a
few dozen bytes is what 10,000 checks × 1,440 minutes a day can afford.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

RELATIVE_ACCURACY = 0.02
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
_MIN_MS = 0.001  # anything faster counts as one microsecond


@dataclass
class LatencySketch:
    """Counts of latencies (ms) per log bucket; merge by adding counts."""

    buckets: Counter[int] = field(default_factory=Counter)

    def add(self, latency_ms: float) -> None:
        """Count one latency."""
        self.buckets[_bucket(latency_ms)] += 1

    def merge(self, other: LatencySketch) -> None:
        """Add another sketch's counts to this one."""
        self.buckets.update(other.buckets)

    @property
    def count(self) -> int:
        """How many latencies were counted."""
        return sum(self.buckets.values())

    def quantile(self, q: float) -> float | None:
        """Return the latency at quantile ``q`` (0..1) within 2 %, or None when empty."""
        total = self.count
        if total == 0:
            return None
        rank = q * (total - 1)
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen > rank:
                return _value(bucket)
        return _value(max(self.buckets))

    def to_json(self) -> dict[str, int]:
        """Return the sparse bucket counts for storage."""
        return {str(bucket): count for bucket, count in sorted(self.buckets.items())}

    @classmethod
    def from_json(cls, data: dict[str, int] | None) -> LatencySketch:
        """Rebuild a sketch from ``to_json`` output."""
        return cls(Counter({int(bucket): int(count) for bucket, count in (data or {}).items()}))


def _bucket(latency_ms: float) -> int:
    return math.ceil(math.log(max(latency_ms, _MIN_MS)) / _LOG_GAMMA)


def _value(bucket: int) -> float:
    # The midpoint (in relative terms) of the bucket's range keeps the error within the accuracy.
    return 2 * _GAMMA**bucket / (_GAMMA + 1)
