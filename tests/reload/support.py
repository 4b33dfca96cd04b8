"""A running exwatch started from a config file the tests rewrite, with a token per role."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
import yaml
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from monitor.admin.auth import AccessGuard
from monitor.admin.token_desk import TokenDesk
from monitor.app import Services, build_services, create_app
from monitor.config import load_config
from monitor.storage.database import Database
from monitor.storage.tables import timeline_events
from probes import REGISTRY, ProbeResult, ProbeSpec, Registry
from tests.access.support import OPERATOR, make_tokens
from tests.support import FakeClock


class FakeSpec(ProbeSpec):
    """A probe kind that touches nothing: it passes (or fails), at once or when let go."""

    kind: Literal["fake"] = "fake"
    ok: bool = True
    hold: bool = False


class FakeProbe:
    """Answers as its spec says; a held run waits until ``release`` (a run in flight)."""

    gate: ClassVar[asyncio.Event | None] = None

    async def run(self, spec: FakeSpec) -> ProbeResult:
        if spec.hold:
            FakeProbe.gate = FakeProbe.gate or asyncio.Event()
            await FakeProbe.gate.wait()
        return ProbeResult(ok=spec.ok, duration_s=0.0, error=None if spec.ok else "down")

    @classmethod
    def release(cls) -> None:
        """Let held runs finish."""
        if cls.gate is not None:
            cls.gate.set()
            cls.gate = None


def _registry() -> Registry:
    registry = Registry()
    for kind in REGISTRY.kinds():
        registry.register(kind.name, kind.spec, kind.factory)
    registry.register("fake", FakeSpec, FakeProbe)
    return registry


TEST_REGISTRY = _registry()
"""Every shipped probe kind plus ``fake`` (one registry: its config model is built once)."""


def check(check_id: str, component: str, **fields: Any) -> dict[str, Any]:
    """A ``fake`` check document."""
    return {"id": check_id, "component": component, "kind": "fake", "interval": "300s", **fields}


def base_document() -> dict[str, Any]:
    """Two groups, three components, a check on each."""
    return {
        "site": {"name": "Exchange", "url": "https://status.example.com"},
        "groups": [
            {"id": "trading", "names": {"ja": "取引", "en": "Trading"}},
            {"id": "funding", "names": {"ja": "入出金", "en": "Funding"}},
        ],
        "components": [
            {"id": "spot", "names": {"ja": "現物", "en": "Spot"}, "group": "trading",
             "impact_class": "trading"},
            {"id": "api", "names": {"ja": "API", "en": "API"}, "group": "trading",
             "impact_class": "access"},
            {"id": "btc-withdrawals", "names": {"ja": "BTC出金", "en": "BTC withdrawals"},
             "group": "funding", "impact_class": "assets"},
        ],
        "checks": [check("spot-check", "spot"), check("api-check", "api"),
                   check("btc-check", "btc-withdrawals")],
    }  # fmt: skip


@dataclass
class Running:
    """The app started from ``path``; ``document`` is what the file holds now."""

    services: Services
    app: FastAPI
    client: httpx.AsyncClient
    path: Path
    clock: FakeClock
    secrets: dict[str, str]
    document: dict[str, Any]

    def write(self, document: dict[str, Any] | str) -> None:
        """Replace the file: a document, or raw text (to write an invalid file)."""
        if isinstance(document, str):
            self.path.write_text(document, encoding="utf-8")
            return
        self.document = copy.deepcopy(document)
        self.path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")

    def edited(self) -> dict[str, Any]:
        """A copy of the file's document to change and ``write``."""
        return copy.deepcopy(self.document)

    async def reload(self, caller: str | None = "operator") -> httpx.Response:
        """POST /api/admin/config/reload as ``caller`` (a role, "operator" or None)."""
        headers = {} if caller is None else {"authorization": f"Bearer {self._secret(caller)}"}
        return await self.client.post("/api/admin/config/reload", headers=headers)

    async def call(
        self, method: str, path: str, caller: str = "operator", **kwargs: Any
    ) -> httpx.Response:
        """Any request as ``caller``."""
        headers = {"authorization": f"Bearer {self._secret(caller)}"}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def events(self, kind: str) -> list[Any]:
        """Timeline events of ``kind``, oldest first."""
        query = select(timeline_events).where(timeline_events.c.kind == kind)
        async with self.services.database.transaction() as session:
            return list((await session.execute(query.order_by(timeline_events.c.id))).all())

    def _secret(self, caller: str) -> str:
        return OPERATOR if caller == "operator" else self.secrets[caller]


@asynccontextmanager
async def running(
    database: Database,
    clock: FakeClock,
    tmp_path: Path,
    document: dict[str, Any] | None = None,
    *,
    run_checks: bool = False,
) -> AsyncIterator[Running]:
    """Write the config, start exwatch from it (lifespan running), and yield the harness."""
    path = tmp_path / "exwatch.yaml"
    document = copy.deepcopy(document or base_document())
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    services = build_services(
        load_config(path, registry=TEST_REGISTRY), database, clock, registry=TEST_REGISTRY,
        metrics_registry=CollectorRegistry(), admin_token=OPERATOR, channels={},
        config_path=path, agent_token="agent-token",
    )  # fmt: skip
    guard = AccessGuard(database, clock, admin_token=OPERATOR)
    app = create_app(services, run_checks=run_checks, access=guard)
    secrets = await make_tokens(TokenDesk(database, clock), clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield Running(services, app, client, path, clock, secrets, document)
