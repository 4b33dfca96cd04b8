"""A live exwatch on a loopback port with a seeded database, and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from monitor.app import Services, build_services
from monitor.domain import ComponentStatus, IncidentStatus
from monitor.responder import ManualIncident
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from monitor.storage.tables import timeline_events
from tests.lifecycle_support import lifecycle_config
from tests.serving import serving
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


async def confirmation_link(site: Site) -> str:
    """The confirm link of the subscription just requested, pointed at the running site."""
    async with site.services.database.transaction() as session:
        event = (
            await session.execute(
                select(timeline_events).where(
                    timeline_events.c.kind == "subscription_confirmation_requested"
                )
            )
        ).one()
    mail = await site.services.subscriptions.confirmation_mail(event.data["subscriber_id"])
    assert mail is not None
    return mail.confirm_url.replace(mail.confirm_url.split("/subscribe")[0], site.url)
