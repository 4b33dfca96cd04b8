"""Prometheus metrics of one engine's candidacy."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class LeaderMetrics:
    """Whether this process leads, and how often it won an election."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.leader = Gauge(
            "exwatch_engine_leader",
            "1 while this engine process is the elected leader, else 0.",
            registry=registry,
        )
        self.elections = Counter(
            "exwatch_engine_elections",
            "Leader elections this engine process won.",
            registry=registry,
        )
        self.epoch = Gauge(
            "exwatch_engine_leader_epoch",
            "The epoch (fencing token) of this process's current leadership; 0 when not leader.",
            registry=registry,
        )

    def became(self, epoch: int | None) -> None:
        """Record an election (``epoch``) or the end of one (None)."""
        self.leader.set(0 if epoch is None else 1)
        self.epoch.set(epoch or 0)
        if epoch is not None:
            self.elections.inc()
