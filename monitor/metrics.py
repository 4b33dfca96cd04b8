"""exwatch's own Prometheus metrics about probes and scheduling, on a registry passed in.

Label cardinality is bounded by the config: one series per check (× phase for the duration
histogram), and ``region`` is ``local`` until regional agents arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
        self.scheduler_skipped = Counter(
            "exwatch_scheduler_skipped_runs",
            "Check runs not started: the previous run of the check was still going, or missed",
            registry=registry,
        )
        self.results_dropped = Counter(
            "exwatch_results_dropped",
            "Probe results dropped unwritten: the writer's buffer filled while the database was away",
            registry=registry,
        )
        self._by_check: dict[tuple[str, str], _CheckSeries] = {}
        self.loop_lag = Histogram(
            "exwatch_event_loop_lag_seconds",
            "How late the event loop ran a timer (a busy loop skews probe timings)",
            buckets=LAG_BUCKETS,
            registry=registry,
        )

    def observe(self, check: CheckConfig, result: ProbeResult, region: str = "local") -> None:
        """Record one run of ``check``."""
        series = self._series(check, region)
        series.success.set(1 if result.ok else 0)
        (series.passed if result.ok else series.failed).inc()
        for phase, seconds in (result.phases or {"total": result.duration_s}).items():
            histogram = series.phases.get(phase)
            if histogram is None:
                histogram = series.phases[phase] = self.duration.labels(*series.labels, phase)
            histogram.observe(seconds)
        expiry = result.observed.get("CERT_EXPIRY")
        if isinstance(expiry, int | float) and not isinstance(expiry, bool):
            self.cert_expiry.labels(*series.labels).set(expiry)

    def _series(self, check: CheckConfig, region: str) -> _CheckSeries:
        # Looking children up by label values costs more than the observation itself.
        key = (check.id, region)
        series = self._by_check.get(key)
        if series is None:
            labels = (check.id, check.component, check.kind, region)
            series = _CheckSeries(
                labels,
                self.success.labels(*labels),
                self.runs.labels(*labels, "success"),
                self.runs.labels(*labels, "failure"),
            )
            self._by_check[key] = series
        return series


@dataclass
class _CheckSeries:
    labels: tuple[str, str, str, str]
    success: Any
    passed: Any
    failed: Any
    phases: dict[str, Any] = field(default_factory=dict)
