"""The admin incident API on SQLite and PostgreSQL: manual incidents with the seed's report fields,
updates, severity and cause, ack/unack, resolve, overrides, and the errors (401, 404, 409, 422).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from monitor.app import Services, build_services, create_app
from monitor.storage.database import Database
from monitor.storage.tables import components
from tests.lifecycle_support import lifecycle_config
from tests.support import FAIL, FakeClock

AUTH = {"authorization": "Bearer t"}
REPORT = {
    "name_ja": "一部のお客様がログインできない",
    "name_en": "Some customers cannot log in",
    "description": "Login returns 500 for accounts created before 2020",
    "started_at": "2026-11-21T08:50:00+00:00",
    "components": {"login": "partial_outage"},
    "impact_scope": "about 3% of accounts",
    "reproduction": "log in with an account created in 2019",
    "reporter": "support desk",
    "contact": "support@example.com",
}


class Api:
    """The app with its engine started, and a client that sends the admin token."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(services, run_checks=False)),
            base_url="http://t",
            headers=AUTH,
        )

    async def call(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.request(method, path, json=body, **kw)

    async def ok(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = await self.call(method, path, body)
        assert response.status_code in (200, 201), response.text
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
async def api(database: Database, clock: FakeClock) -> Any:
    services = build_services(
        lifecycle_config(), database, clock, metrics_registry=CollectorRegistry(), admin_token="t"
    )
    await services.engine.start()
    client = Api(services)
    yield client
    await client.client.aclose()


async def test_a_manual_incident_keeps_the_report_fields(api: Api) -> None:
    created = await api.ok("POST", "/api/admin/incidents", REPORT)
    assert created["origin"] == "manual"
    assert created["severity"] == "moderate"  # access × partial_outage by the policy
    assert created["severity_reason"] == "moderate: login is partial_outage (impact class access)"
    for field in ("description", "impact_scope", "reproduction", "reporter", "contact"):
        assert created[field] == REPORT[field]
    assert created["started_at"].startswith("2026-11-21T08:50:00")
    assert [c["id"] for c in created["components"]] == ["login"]
    assert created["updates"][0]["body_en"] == REPORT["description"]
    assert await _status(api, "login") == "partial_outage"  # the public sees the report
    listed = await api.ok("GET", "/api/admin/incidents")
    assert [i["id"] for i in listed["incidents"]] == [created["id"]]


async def test_update_ack_severity_and_resolve(api: Api, clock: FakeClock) -> None:
    incident = await api.ok("POST", "/api/admin/incidents", REPORT)
    path = f"/api/admin/incidents/{incident['id']}"
    clock.advance(120)
    acked = await api.ok("POST", f"{path}/ack")
    assert (acked["acknowledged_by"], acked["mtta_seconds"]) == ("admin", 120.0)
    assert (await api.call("POST", f"{path}/ack")).status_code == 409
    update = {"status": "identified", "body_ja": "原因を特定しました", "body_en": "Cause found"}
    updated = await api.ok("POST", f"{path}/updates", update)
    assert updated["status"] == "identified"
    raised = await api.ok(
        "POST", f"{path}/severity", {"severity": "critical", "reason": "spreading"}
    )
    assert raised["severity_reason"] == "critical: spreading (set by admin)"
    assert raised["acknowledged_at"] is None  # a rise pages again
    clock.advance(600)
    resolved = await api.ok("POST", f"{path}/resolve", {"body_en": "Fixed", "body_ja": "解決"})
    assert resolved["status"] == "resolved"
    assert resolved["mttr_seconds"] == pytest.approx(120 + 600)  # from detection (opened)
    assert resolved["updates"][0]["body_en"] == "Fixed"
    conflict = await api.call("POST", f"{path}/resolve")
    assert (conflict.status_code, conflict.json()) == (
        409, {"error": f"incident #{incident['id']} is already resolved"},
    )  # fmt: skip


async def test_a_manual_incident_shows_and_then_releases_component_statuses(api: Api) -> None:
    incident = await api.ok("POST", "/api/admin/incidents", REPORT)
    facts = await _status(api, "login")
    assert facts == "partial_outage"
    await api.ok("POST", f"/api/admin/incidents/{incident['id']}/resolve")
    assert await _status(api, "login") == "operational"


async def test_an_engine_incident_can_be_acknowledged_and_its_cause_set(
    api: Api, clock: FakeClock
) -> None:
    check = next(c for c in api.services.config.checks if c.id == "charts-check")
    for _ in range(2):
        clock.advance(10)
        await api.services.engine.ingest(check, FAIL)
    [incident] = (await api.ok("GET", "/api/admin/incidents"))["incidents"]
    assert incident["severity"] == "moderate"
    changed = await api.ok(
        "POST", f"/api/admin/incidents/{incident['id']}/cause", {"cause": "security/malware"}
    )
    assert (changed["severity"], changed["cause"]) == ("critical", "security/malware")
    assert [a["check_id"] for a in changed["alerts"]] == ["charts-check"]


async def test_a_trading_halt_override_and_its_end(api: Api) -> None:
    body = {"status": "major_outage", "reason": "halted during a crash", "message_en": "Halted"}
    await api.ok("PUT", "/api/admin/components/btc-trading/override", body)
    assert await _status(api, "btc-trading") == "major_outage"
    response = await api.client.request(
        "DELETE", "/api/admin/components/btc-trading/override", json={"reason": "reopened"}
    )
    assert response.status_code == 200
    assert await _status(api, "btc-trading") == "operational"


@pytest.mark.parametrize(
    ("method", "path", "body", "expect"),
    [
        ("GET", "/api/admin/incidents/999", None, (404, "no incident #999")),
        ("POST", "/api/admin/incidents/999/ack", None, (404, "no incident #999")),
        ("POST", "/api/admin/incidents", {**REPORT, "components": {"nope": "major_outage"}}, (422, "nope")),
        ("POST", "/api/admin/incidents", {**REPORT, "cause": "aliens"}, (422, "unknown cause")),
        ("POST", "/api/admin/incidents", {**REPORT, "started_at": "2026-11-21T08:50:00"}, (422, "started_at")),
        ("POST", "/api/admin/incidents", {**REPORT, "surprise": 1}, (422, "surprise")),
        ("PUT", "/api/admin/components/nope/override", {"status": "major_outage", "reason": "x"}, (422, "nope")),
    ],
)  # fmt: skip
async def test_bad_requests_say_what_is_wrong(
    api: Api, method: str, path: str, body: Any, expect: tuple[int, str]
) -> None:
    status, says = expect
    response = await api.call(method, path, body)
    assert response.status_code == status, response.text
    assert says in response.text


async def test_every_admin_route_needs_the_token(api: Api) -> None:
    for method, path in [("GET", "/api/admin/incidents"), ("POST", "/api/admin/incidents/1/ack")]:
        response = await api.call(method, path, headers={"authorization": "Bearer wrong"})
        assert response.status_code == 401


async def _status(api: Api, component_id: str) -> str:
    async with api.services.database.transaction() as s:
        return str(
            await s.scalar(select(components.c.status).where(components.c.id == component_id))
        )


async def test_an_update_records_the_statuses_it_announces(api: Api) -> None:
    incident = await api.ok("POST", "/api/admin/incidents", REPORT)
    update = {
        "status": "identified", "body_ja": "悪化", "body_en": "Worse",
        "components": {"login": "major_outage"},
    }  # fmt: skip
    posted = await api.ok("POST", f"/api/admin/incidents/{incident['id']}/updates", update)
    assert posted["updates"][0]["affected_components"] == [
        {"id": "login", "status": "major_outage", "old_status": "partial_outage"}
    ]
    assert await _status(api, "login") == "major_outage"
