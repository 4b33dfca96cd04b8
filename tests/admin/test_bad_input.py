"""The admin API never answers bad input with a 500: huge ids, future start times."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from monitor.app import build_services, create_app
from monitor.storage.database import Database
from tests.lifecycle_support import lifecycle_config
from tests.support import FakeClock

AUTH = {"authorization": "Bearer t"}
BIG = str(2**63)


@pytest.fixture
async def client(database: Database, clock: FakeClock) -> Any:
    services = build_services(
        lifecycle_config(), database, clock, metrics_registry=CollectorRegistry(), admin_token="t"
    )
    await services.engine.start()
    c = httpx.AsyncClient(
        transport=httpx.ASGITransport(
            app=create_app(services, run_checks=False), raise_app_exceptions=False
        ),
        base_url="http://t",
        headers=AUTH,
    )
    yield c
    await c.aclose()


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("GET", f"/api/admin/incidents/{BIG}", None),
        ("POST", f"/api/admin/incidents/{BIG}/ack", None),
        ("POST", f"/api/admin/incidents/{BIG}/resolve", None),
        ("GET", f"/api/admin/incidents/{BIG}/timeline", None),
        ("GET", f"/api/admin/timeline?since={BIG}", None),
        ("GET", f"/api/admin/maintenance/{BIG}", None),
        ("GET", "/api/admin/incidents/-1", None),
    ],
)
async def test_no_500(client: Any, method: str, path: str, body: Any) -> None:
    r = await client.request(method, path, json=body)
    assert r.status_code < 500, (r.status_code, r.text[:300])


async def test_manual_incident_started_in_future(client: Any) -> None:
    body = {
        "name_ja": "x",
        "name_en": "x",
        "description": "d",
        "started_at": "2030-01-01T00:00:00+00:00",
        "components": {"login": "partial_outage"},
    }
    r = await client.post("/api/admin/incidents", json=body)
    print(r.status_code, r.text[:200])
    assert r.status_code == 422


async def test_ack_resolve_no_body(client: Any) -> None:
    body = {
        "name_ja": "x",
        "name_en": "x",
        "description": "d",
        "started_at": "2026-11-21T08:00:00+00:00",
        "components": {"login": "partial_outage"},
    }
    r = await client.post("/api/admin/incidents", json=body)
    iid = r.json()["id"]
    r = await client.post(
        f"/api/admin/incidents/{iid}/resolve",
        content=b"not json",
        headers={**AUTH, "content-type": "application/json"},
    )
    assert r.status_code < 500, r.text
    r = await client.post(
        f"/api/admin/incidents/{iid}/updates",
        json={
            "status": "investigating",
            "body_ja": "a",
            "body_en": "b",
            "components": {"nope": "major_outage"},
        },
    )
    assert r.status_code in (404, 409, 422), r.text
