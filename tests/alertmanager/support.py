"""Helpers for the Alertmanager tests: a config with matchers, payload builders, an app to post to."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from monitor.app import Services, build_services, create_app
from monitor.config import Config, parse_config
from monitor.storage.database import Database
from monitor.storage.tables import alerts, components, incidents, timeline_events
from tests.support import FakeClock

TOKEN = "alertmanager-test-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
FIXTURES = Path(__file__).parent / "fixtures"
T0 = datetime(2026, 11, 21, 8, 55, 1, 123456, tzinfo=UTC)

COMPONENTS = [
    ("trading-engine", "trading"),
    ("charts", "information"),
    ("btc-withdrawals", "assets"),
    ("login", "access"),
    ("monitoring", "information"),
]
MATCHERS = [
    {"labels": {"alertname": "DemoAlert"}, "component": "monitoring"},
    {"labels": {"job": "wallet"}, "component": "btc-withdrawals", "on_failure": "partial_outage"},
    {"labels": {"service": "auth"}, "component": "login"},
]


def make_config(**extra: Any) -> Config:
    """Five components; matchers for DemoAlert, the wallet job and the auth service."""
    document: dict[str, Any] = {
        "site": {"name": "Test"},
        "components": [
            {"id": cid, "names": {"ja": cid, "en": cid}, "impact_class": klass}
            for cid, klass in COMPONENTS
        ],
        "alertmanager": {"matchers": MATCHERS},
        "incidents": {"resolve_after": {"minor": "0s", "moderate": "0s", "critical": "0s"}},
        **extra,
    }
    return parse_config(yaml.safe_dump(document))


def alert(
    status: str = "firing",
    *,
    starts: datetime = T0,
    fingerprint: str | None = "a1b2c3d4e5f60718",
    **labels: str,
) -> dict[str, Any]:
    """One webhook alert; labels default to a critical alert on trading-engine."""
    labels = labels or {
        "alertname": "EngineDown",
        "component": "trading-engine",
        "severity": "critical",
    }
    item: dict[str, Any] = {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"{labels.get('alertname', 'alert')} is firing"},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z"
        if status == "firing"
        else (starts + timedelta(minutes=5)).isoformat(),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
    }
    if fingerprint is not None:
        item["fingerprint"] = fingerprint
    return item


def payload(*items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A version 4 notification of ``items``."""
    firing = any(item.get("status") == "firing" for item in items)
    return {
        "version": "4",
        "groupKey": '{}:{alertname="EngineDown"}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "exwatch",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(items),
        **fields,
    }


def load_2447() -> list[dict[str, Any]]:
    """The notifications of alertmanager#2447 in the order they were delivered."""
    document = json.loads((FIXTURES / "alertmanager_2447.json").read_text())
    return list(document["notifications"])


@dataclass
class Receiver:
    """A running app with the receiver, and shortcuts to post and read state."""

    app: FastAPI
    services: Services
    database: Database
    clock: FakeClock

    async def post(self, body: Any, *, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST ``body`` (a dict as JSON, bytes as they are) to /api/alertmanager."""
        self.clock.advance(1)
        headers = AUTH if headers is None else headers
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://t"
        ) as client:
            if isinstance(body, bytes):
                return await client.post("/api/alertmanager", content=body, headers=headers)
            return await client.post("/api/alertmanager", json=body, headers=headers)

    async def rows(self, table: Any, *where: Any) -> list[Any]:
        """Return the rows of ``table`` matching ``where``, by id."""
        async with self.database.transaction() as s:
            return list((await s.execute(select(table).where(*where).order_by(table.c.id))).all())

    async def count(self, table: Any, *where: Any) -> int:
        """Count the rows of ``table`` matching ``where``."""
        async with self.database.transaction() as s:
            return int(await s.scalar(select(func.count()).select_from(table).where(*where)) or 0)

    async def status(self, component_id: str) -> str:
        """Return a component's public status."""
        async with self.database.transaction() as s:
            value = await s.scalar(
                select(components.c.status).where(components.c.id == component_id)
            )
        return str(value)

    async def alerts(self) -> list[tuple[str, str | None, str, str]]:
        """Return (fingerprint, episode, status, component) of every alert, oldest first."""
        return [
            (r.fingerprint, r.episode, r.status, r.component_id) for r in await self.rows(alerts)
        ]

    async def open_incidents(self) -> int:
        """Count incidents not resolved."""
        return await self.count(incidents, incidents.c.status != "resolved")

    async def events(self, kind: str) -> list[Any]:
        """Return the timeline events of one kind."""
        return await self.rows(timeline_events, timeline_events.c.kind == kind)


@asynccontextmanager
async def running(
    database: Database, clock: FakeClock, *, config: Config | None = None, token: str | None = TOKEN
) -> AsyncIterator[Receiver]:
    """Start the app (lifespan included) with the receiver mounted."""
    services = build_services(
        config or make_config(),
        database,
        clock,
        metrics_registry=CollectorRegistry(),
        admin_token=token,
    )
    app = create_app(services, run_checks=False)
    async with app.router.lifespan_context(app):
        yield Receiver(app, services, database, clock)
