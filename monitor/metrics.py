"""exwatch's own Prometheus metrics about probes and scheduling, on a registry passed in.

Label cardinality is bounded by the config: one series per check (× phase for the duration
histogram), and ``region`` is ``local`` until regional agents arrive.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from monitor.config import CheckConfig
from probes import ProbeResult

LABELS = ("check", "component", "kind", "region")
# Probe phases span loopback (sub-millisecond) to a slow exchange under load (tens of seconds).
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class ProbeMetrics:
    """The probe and scheduler series; one instance per registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.success = Gauge(
            "exwatch_probe_success",
            "1 if the check's last run passed, else 0",
            LABELS,
            registry=registry,
        )
        self.runs = Counter(
            "exwatch_probe_runs", "Check runs by outcome", (*LABELS, "outcome"), registry=registry
        )
        self.duration = Histogram(
            "exwatch_probe_duration_seconds",
            "Duration of each phase of a check run (dns, connect, first_byte, total)",
            (*LABELS, "phase"),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.cert_expiry = Gauge(
            "exwatch_cert_expiry_seconds",
            "Seconds until the certificate a check saw expires",
            LABELS,
            registry=registry,
        )
        self.scheduler_lag = Histogram(
            "exwatch_scheduler_lag_seconds",
            "How late a check run started after its scheduled time",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.loop_lag = Histogram(
            "exwatch_event_loop_lag_seconds",
            "How late the event loop ran a timer (a busy loop skews probe timings)",
            buckets=LAG_BUCKETS,
            registry=registry,
        )

    def observe(self, check: CheckConfig, result: ProbeResult, region: str = "local") -> None:
        """Record one run of ``check``."""
        labels = (check.id, check.component, check.kind, region)
        self.success.labels(*labels).set(1 if result.ok else 0)
        self.runs.labels(*labels, "success" if result.ok else "failure").inc()
        phases = result.phases or {"total": result.duration_s}
        for phase, seconds in phases.items():
            self.duration.labels(*labels, phase).observe(seconds)
        expiry = result.observed.get("CERT_EXPIRY")
        if isinstance(expiry, int | float) and not isinstance(expiry, bool):
            self.cert_expiry.labels(*labels).set(expiry)
