"""A check run through the scheduler and the engine leaves a probe span and an engine span."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from monitor.config import CheckConfig
from monitor.scheduler import CheckScheduler
from monitor.storage.database import Database
from probes import ProbeResult, Registry
from tests.support import FAIL, FakeClock
from tests.test_engine import Harness, make_config, started
from tests.tracing.support import named

PHASES = {"dns": 0.001, "connect": 0.002, "tls": 0.003, "total": 0.01}


class FailingProbe:
    """Fails with timings for each phase, as the HTTP probe reports them."""

    async def run(self, spec: Any) -> ProbeResult:
        return ProbeResult(False, 0.01, error="status 503, expected 200", phases=dict(PHASES))


def _scheduler(harness: Harness) -> tuple[CheckScheduler, CheckConfig]:
    check = next(c for c in harness.config.checks if c.id == "trading-engine-check")
    scheduler = CheckScheduler(
        [check], Registry(), harness.engine.ingest, harness.clock, probes={"http": FailingProbe()}
    )
    return scheduler, check


async def test_a_probe_run_has_a_span_with_one_event_per_phase(
    spans: InMemorySpanExporter, database: Database, clock: FakeClock
) -> None:
    harness = await started(database, make_config(), clock)
    scheduler, check = _scheduler(harness)
    await scheduler.run_check(check)
    [probe] = named(spans, "exwatch.probe")
    assert probe.attributes is not None
    assert dict(probe.attributes) == {
        "exwatch.check": "trading-engine-check", "exwatch.component": "trading-engine",
        "exwatch.kind": "http", "exwatch.region": "local", "exwatch.ok": False,
        "exwatch.duration_s": 0.01,
    }  # fmt: skip
    events = {e.name: dict(e.attributes or {}) for e in probe.events}
    assert events["exwatch.phase.tls"] == {"exwatch.phase": "tls", "exwatch.seconds": 0.003}
    assert set(events) == {f"exwatch.phase.{phase}" for phase in PHASES}
    assert not probe.status.is_ok  # a failed probe marks its span as an error


async def test_the_engine_decision_is_a_child_span_with_the_state_before_and_after(
    spans: InMemorySpanExporter, database: Database, clock: FakeClock
) -> None:
    harness = await started(database, make_config(), clock)
    scheduler, check = _scheduler(harness)
    await scheduler.run_check(check)
    clock.advance(10)
    await scheduler.run_check(check)
    first, second = named(spans, "exwatch.engine.ingest")
    assert first.attributes is not None and second.attributes is not None
    assert (first.attributes["exwatch.state.before"], first.attributes["exwatch.state.after"]) == (
        "ok", "pending",
    )  # fmt: skip
    assert second.attributes["exwatch.state.after"] == "firing"
    assert second.attributes["exwatch.check"] == "trading-engine-check"
    probes = named(spans, "exwatch.probe")
    assert second.parent is not None and second.parent.span_id == probes[1].context.span_id


async def test_the_incident_opening_is_a_span_under_the_engine_decision(
    spans: InMemorySpanExporter, database: Database, clock: FakeClock
) -> None:
    harness = await started(database, make_config(), clock)
    await harness.feed("trading-engine-check", FAIL, FAIL)
    [opened] = named(spans, "exwatch.timeline.incident_opened")
    [_, deciding] = named(spans, "exwatch.engine.ingest")
    assert opened.attributes is not None
    assert opened.attributes["exwatch.actor"] == "engine"
    assert isinstance(opened.attributes["exwatch.incident"], int)
    assert opened.context.trace_id == deciding.context.trace_id
