"""The app behind a proxy: an https site with a brand colour and a logo on a CDN, one token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from monitor.app import Services, build_services, create_app
from monitor.config import Config
from monitor.domain import ComponentStatus
from monitor.maintenance.models import NewMaintenance
from monitor.responder import ManualIncident
from monitor.security.policy import source_hash
from monitor.storage.database import Database
from tests.lifecycle_support import lifecycle_config
from tests.support import FakeClock

ADMIN = "security-admin-token-0123456789"
PROXY_NETWORK = "10.0.0.0/8"
PROXY = ("10.0.0.2", 40000)
"""A reverse proxy in ``server.trusted_proxies``."""
STRANGER = ("203.0.113.9", 40000)
"""A peer that is no proxy of ours."""
SITE: dict[str, Any] = {
    "name": "Secure Exchange",
    "url": "https://status.example.com",
    "logo_url": "https://cdn.example.net/logo.png",
    "colors": {"brand": "#0052cc", "accent": "#d4a000"},
}
_STYLE_ELEMENT = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def security_config(**sections: Any) -> Config:
    """The lifecycle components on an https site behind ``PROXY_NETWORK``."""
    return lifecycle_config(
        **{"site": SITE, "server": {"trusted_proxies": [PROXY_NETWORK]}, **sections}
    )


@dataclass
class Served:
    """The running app and a client per peer address."""

    app: FastAPI
    services: Services

    def client(self, peer: tuple[str, int] = STRANGER) -> httpx.AsyncClient:
        """A client whose requests arrive from ``peer``."""
        transport = httpx.ASGITransport(app=self.app, client=peer)
        return httpx.AsyncClient(transport=transport, base_url="http://t")


@asynccontextmanager
async def served(
    database: Database, clock: FakeClock, config: Config | None = None
) -> AsyncIterator[Served]:
    """Run the whole app (lifespan started, checks not run) on ``database``."""
    services = build_services(
        config or security_config(), database, clock, metrics_registry=CollectorRegistry(),
        admin_token=ADMIN,
    )  # fmt: skip
    app = create_app(services, run_checks=False)
    async with app.router.lifespan_context(app):
        await seed(services, clock)
        yield Served(app, services)


async def seed(services: Services, clock: FakeClock) -> tuple[int, int]:
    """Open incident 1 and schedule maintenance window 1, then publish the page."""
    now = clock.now()
    report = ManualIncident(
        name_ja="出金遅延", name_en="Withdrawals delayed", description="stuck",
        started_at=now - timedelta(minutes=5),
        components={"btc-withdrawals": ComponentStatus.PARTIAL_OUTAGE},
    )  # fmt: skip
    incident = await services.responder.open(report, now, actor="alice")
    window = NewMaintenance(
        name_ja="定期メンテナンス", name_en="Scheduled maintenance", body_ja="本文",
        body_en="Body", scheduled_start=now + timedelta(days=1),
        scheduled_end=now + timedelta(days=1, hours=1), components=("trading-engine",),
    )  # fmt: skip
    maintenance = await services.maintenance.schedule(window, actor="alice")
    await services.publisher.publish_now()
    return incident, maintenance.id


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as directive name → sources."""
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} given twice in {policy!r}"
        parsed[name] = sources
    return parsed


def inline_style_hashes(html: str) -> list[str]:
    """The CSP hash of each inline ``<style>`` element of ``html``."""
    return [source_hash(text) for text in _STYLE_ELEMENT.findall(html)]
