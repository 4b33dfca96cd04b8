"""A live ``/metrics`` of a running exwatch passes ``promtool check metrics`` (lint included)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.metrics.support import break_component, services_on
from tests.metrics.tools import PROMTOOL, require
from tests.serving import serving
from tests.support import FakeClock


async def test_a_live_scrape_passes_promtool(tmp_path: Path) -> None:
    require(PROMTOOL)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'exwatch.db'}")
    await upgrade(database)
    clock = FakeClock()
    services = services_on(database, clock)
    try:
        async with serving(services) as url:
            # Every kind of series present: an incident, a firing alert, page requests.
            await break_component(services, clock, "trading-engine")
            clock.advance(60)
            await services.responder.acknowledge(1, clock.now(), actor="alice")
            async with httpx.AsyncClient(base_url=url) as client:
                assert (await client.get("/api/v2/summary.json")).status_code == 200
                scraped = await client.get("/metrics")
    finally:
        await database.close()
    assert scraped.status_code == 200
    body = scraped.content
    assert b"exwatch_component_status{" in body
    assert b'exwatch_incident_acknowledge_seconds_count{severity="critical"} 1.0' in body
    checked = await asyncio.create_subprocess_exec(
        str(PROMTOOL), "check", "metrics",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await checked.communicate(body)
    assert checked.returncode == 0, output.decode()
