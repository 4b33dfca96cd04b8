"""The app's /metrics: page requests, DB query latency and process metrics, promtool-valid."""

from __future__ import annotations

import asyncio
import shutil

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from monitor.app import build_services, create_app
from monitor.storage.database import Database
from tests.support import FakeClock
from tests.test_engine import make_config


async def scrape(database: Database) -> str:
    """Start the app on ``database``, fetch the page twice (once revalidated), then /metrics."""
    services = build_services(
        make_config(), database, FakeClock(), metrics_registry=CollectorRegistry()
    )
    app = create_app(services, run_checks=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = await client.get("/")
            again = await client.get("/", headers={"if-none-match": first.headers["etag"]})
            assert (first.status_code, again.status_code) == (200, 304)
            response = await client.get("/metrics")
    assert response.status_code == 200
    return response.text


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``exposition`` by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def test_the_app_exports_page_db_and_process_metrics(database: Database) -> None:
    exposition = await scrape(database)
    found = samples(exposition)
    page = "exwatch_page_requests_total"
    assert found[(page, (("code", "200"), ("document", "index")))] == 1
    assert found[(page, (("code", "304"), ("document", "index")))] == 1
    assert found[("exwatch_db_query_seconds_count", (("operation", "select"),))] > 0
    names = {name for name, _ in found}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes"} <= names
    assert {"process_open_fds", "python_info"} <= names


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool (Debian prometheus) not installed"
)
async def test_the_whole_exposition_passes_promtool(database: Database) -> None:
    exposition = await scrape(database)
    promtool = await asyncio.create_subprocess_exec(
        "promtool", "check", "metrics",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, errors = await asyncio.wait_for(promtool.communicate(exposition.encode()), 30)
    assert promtool.returncode == 0, output + errors
