"""exwatch's own metrics: series per check and phase, lag histograms, a valid exposition."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from monitor.app import build_services, create_app
from monitor.metrics import ProbeMetrics
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from probes import ProbeResult
from tests.support import FakeClock
from tests.test_engine import make_config


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_a_run_is_recorded_per_check_and_phase() -> None:
    registry = CollectorRegistry()
    metrics = ProbeMetrics(registry)
    check = make_config().checks[0]
    labels = {"check": check.id, "component": check.component, "kind": "http", "region": "local"}
    passed = ProbeResult(
        True, 0.2, observed={"CERT_EXPIRY": 86400.0}, phases={"connect": 0.01, "total": 0.2}
    )
    metrics.observe(check, passed)
    metrics.observe(check, ProbeResult(False, 0.5, error="down"))
    assert sample(registry, "exwatch_probe_success", **labels) == 0
    assert sample(registry, "exwatch_probe_runs_total", **labels, outcome="success") == 1
    assert sample(registry, "exwatch_probe_runs_total", **labels, outcome="failure") == 1
    assert sample(registry, "exwatch_probe_duration_seconds_count", **labels, phase="total") == 2
    assert sample(registry, "exwatch_probe_duration_seconds_sum", **labels, phase="connect") == 0.01
    assert sample(registry, "exwatch_cert_expiry_seconds", **labels) == 86400.0


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool (Debian prometheus) not installed"
)
def test_the_exposition_passes_promtool() -> None:
    registry = CollectorRegistry()
    metrics = ProbeMetrics(registry)
    metrics.observe(make_config().checks[0], ProbeResult(True, 0.1, phases={"total": 0.1}))
    metrics.scheduler_lag.observe(0.002)
    checked = subprocess.run(
        ["promtool", "check", "metrics"],
        input=generate_latest(registry),
        capture_output=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_the_app_serves_metrics_with_loop_lag(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await upgrade(database)
    services = build_services(
        make_config(), database, FakeClock(), metrics_registry=CollectorRegistry()
    )
    app = create_app(services, run_checks=False)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.6)  # one loop-lag measurement (every 0.5 s)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.get("/metrics")
    await database.close()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "exwatch_event_loop_lag_seconds_count 1.0" in response.text
