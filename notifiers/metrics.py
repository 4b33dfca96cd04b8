"""Delivery metrics: sends by channel and outcome, retries, dead letters, the outbox's age."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class DeliveryMetrics:
    """The notification series; one instance per registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.sends = Counter(
            "exwatch_notification_sends",
            "Delivery attempts by channel and outcome (ok, retryable, permanent, dropped)",
            ("channel", "outcome"),
            registry=registry,
        )
        self.retries = Counter(
            "exwatch_notification_retries",
            "Deliveries scheduled for another attempt",
            ("channel",),
            registry=registry,
        )
        self.dead_letters = Counter(
            "exwatch_notification_dead_letters",
            "Deliveries given up on (permanent failure or out of attempts)",
            ("channel",),
            registry=registry,
        )
        self.send_seconds = Histogram(
            "exwatch_notification_send_seconds",
            "How long one send took",
            ("channel",),
            registry=registry,
        )
        self.outbox_age = Gauge(
            "exwatch_outbox_oldest_pending_seconds",
            "Age of the oldest pending delivery (0 when none)",
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "exwatch_outbox_pending", "Pending deliveries", ("channel",), registry=registry
        )
        # Labelled children, looked up once: a fan-out counts 100,000 sends.
        self._sent: dict[tuple[str, str], tuple[Counter, Histogram]] = {}

    def count_send(self, channel: str, outcome: str, seconds: float) -> None:
        """Count one send on ``channel`` with its outcome, and how long it took."""
        children = self._sent.get((channel, outcome))
        if children is None:
            children = (self.sends.labels(channel, outcome), self.send_seconds.labels(channel))
            self._sent[channel, outcome] = children
        children[0].inc()
        children[1].observe(seconds)
