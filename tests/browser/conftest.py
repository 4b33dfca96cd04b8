"""A live exwatch on a loopback port with a seeded database, and Debian's Chromium via Playwright."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from prometheus_client import CollectorRegistry

from monitor.app import Services, build_services, create_app
from monitor.domain import ComponentStatus, IncidentStatus
from monitor.responder import ManualIncident
from monitor.server import uvicorn_server
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.lifecycle_support import lifecycle_config
from tests.support import FAIL, FakeClock

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
XSS = "<script>window.__xss=1</script>\"'"


def require_chromium() -> None:
    """Skip without Debian's Chromium locally; under CI=true (`.ci/run` installs it) fail."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run installs the Debian package")
    pytest.skip("Chromium is not installed (apt-get install chromium)")


@dataclass
class Site:
    """The running site: its URL and the services behind it."""

    url: str
    services: Services


async def _seed(services: Services, clock: FakeClock) -> None:
    """An engine-made critical incident and a manual one whose texts try to inject script."""
    await services.engine.start()
    check = next(c for c in services.config.checks if c.id == "trading-engine-check")
    for _ in range(2):
        clock.advance(10)
        await services.engine.ingest(check, FAIL)
    report = ManualIncident(
        name_ja=f"出金遅延 {XSS}", name_en=f"Withdrawals delayed {XSS}",
        description=f"Stuck {XSS}", started_at=clock.now() - timedelta(minutes=5),
        components={"btc-withdrawals": ComponentStatus.PARTIAL_OUTAGE},
    )  # fmt: skip
    incident_id = await services.responder.open(report, clock.now(), actor="alice")
    text = {"ja": f"調査中 {XSS}", "en": f"Investigating {XSS}"}
    await services.responder.post(
        incident_id, IncidentStatus.IDENTIFIED, text, clock.now(), actor="alice"
    )


@asynccontextmanager
async def serving(services: Services) -> AsyncIterator[str]:
    """Serve the app of ``services`` on a free loopback port; yields its URL."""
    app = create_app(services, run_checks=False)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn_server(app, "127.0.0.1", sock.getsockname()[1])
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(200):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "exwatch did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    """Serve the real app with a seeded SQLite database on a free loopback port."""
    require_chromium()
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'exwatch.db'}")
    await upgrade(database)
    clock = FakeClock()
    services = build_services(
        lifecycle_config(), database, clock, metrics_registry=CollectorRegistry(), admin_token="t"
    )
    await _seed(services, clock)
    try:
        async with serving(services) as url:
            yield Site(url, services)
    finally:
        await database.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, through Playwright."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            await launched.close()
