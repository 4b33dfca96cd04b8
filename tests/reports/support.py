"""Shared pieces of the user-report tests: a small exchange, a served app, HTTP shortcuts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import yaml
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from monitor.app import Services, build_services, create_app
from monitor.config import Config, parse_config
from monitor.domain import ComponentStatus
from monitor.reports import ReportDesk
from monitor.storage.database import Database
from monitor.storage.tables import alerts, components
from tests.support import FakeClock

KEY = b"reports-test-key-0123456789abcdef"
ADMIN = "t"
AUTH = {"authorization": f"Bearer {ADMIN}"}
COMPONENTS = ("login", "website", "btc-withdrawals")


def reports_config(**policy: Any) -> Config:
    """Three components, no checks; ``policy`` overrides the user_reports settings."""
    document: dict[str, Any] = {
        "site": {"name": "Test"},
        "components": [
            {"id": cid, "names": {"ja": f"{cid}(ja)", "en": cid.title()},
             "impact_class": "assets" if "withdrawals" in cid else "access"}
            for cid in COMPONENTS
        ],
        "user_reports": policy,
    }  # fmt: skip
    return parse_config(yaml.safe_dump(document))


def new_desk(services: Services, **options: Any) -> ReportDesk:
    """Return a desk on the services' database, engine and clock (a new one is a restart)."""
    return ReportDesk(
        services.database, services.engine, services.config, services.clock, key=KEY, **options
    )


@dataclass
class Served:
    """A running app with the report routes, and the parts tests reach into."""

    app: FastAPI
    services: Services
    desk: ReportDesk
    clock: FakeClock

    async def call(
        self, method: str, path: str, *, address: str = "192.0.2.10", **kwargs: Any
    ) -> httpx.Response:
        """Send one request from ``address``."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.request(method, path, **kwargs)

    async def report(
        self, component: str = "login", body: str = "cannot log in", **kwargs: Any
    ) -> httpx.Response:
        """Post one JSON report."""
        return await self.call(
            "POST", "/api/reports", json={"component": component, "body": body}, **kwargs
        )

    async def user_report_alerts(self, *where: Any) -> list[Any]:
        """Return every alert raised by user reports, oldest first."""
        query = select(alerts).where(alerts.c.source == "user_reports", *where)
        async with self.services.database.transaction() as session:
            return list((await session.execute(query.order_by(alerts.c.id))).all())

    async def status(self, component_id: str) -> ComponentStatus:
        """Return a component's public status."""
        async with self.services.database.transaction() as session:
            value = await session.scalar(
                select(components.c.status).where(components.c.id == component_id)
            )
        return ComponentStatus(str(value))

    async def count(self, table: Any, *where: Any) -> int:
        """Return how many rows of ``table`` match."""
        async with self.services.database.transaction() as session:
            query = select(func.count()).select_from(table).where(*where)
            return int(await session.scalar(query) or 0)


@asynccontextmanager
async def serve(database: Database, clock: FakeClock, config: Config) -> AsyncIterator[Served]:
    """Run the app (lifespan and all) with the report routes included."""
    services = build_services(
        config, database, clock, metrics_registry=CollectorRegistry(), admin_token=ADMIN,
        report_key=KEY,
    )  # fmt: skip
    app = create_app(services, run_checks=False)
    desk = services.reports
    async with app.router.lifespan_context(app):
        yield Served(app, services, desk, clock)
