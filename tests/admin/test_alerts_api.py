"""The admin alert list and check view on SQLite and PostgreSQL: per-region state, last results."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from monitor.admin.alerts_api import build_alerts_router
from monitor.admin.auth import AccessGuard
from monitor.app import Services, build_services, create_app
from monitor.config import Config, parse_config
from monitor.domain import ComponentStatus
from monitor.storage.alerts import open_alert
from monitor.storage.database import Database
from probes import ConditionOutcome, ProbeResult
from tests.support import FAIL, OK, UNREACHABLE_DATABASE_URL, FakeClock

TOKEN = "t"
AUTH = {"authorization": f"Bearer {TOKEN}"}
STATUS_503 = ProbeResult(
    ok=False,
    duration_s=0.25,
    observed={"STATUS": 503},
    conditions=(
        ConditionOutcome("[STATUS] == 200", ok=False, observed=503),
        ConditionOutcome("[RESPONSE_TIME] < 1000", ok=True, observed=250),
    ),
    phases={"connect": 0.001, "total": 0.25},
)

CONFIG = """
site: {name: Test}
groups: [{id: main, names: {ja: main, en: main}}]
components:
  - {id: api, names: {ja: API, en: API}, group: main, impact_class: access}
  - {id: login, names: {ja: login, en: login}, group: main, impact_class: access}
  - {id: website, names: {ja: web, en: web}, group: main, impact_class: access}
checks:
  - {id: api-check, component: api, kind: http, url: "http://127.0.0.1:9/", interval: 10s,
     timeout: 1s, regions: [local, tokyo], quorum: 1, failures_to_alert: 2,
     successes_to_recover: 2, on_failure: major_outage,
     conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 1000"]}
  - {id: login-check, component: login, kind: http, url: "http://127.0.0.1:9/", interval: 10s,
     timeout: 1s, failures_to_alert: 2, successes_to_recover: 2, on_failure: partial_outage}
  - {id: website-check, component: website, kind: http, url: "http://127.0.0.1:9/",
     interval: 10s, timeout: 1s, failures_to_alert: 1, on_failure: degraded_performance}
"""


class Admin:
    """An app with the alerts router, its engine fed by hand, and an HTTP client for it."""

    def __init__(self, services: Services, app: FastAPI, clock: FakeClock) -> None:
        self.services, self.app, self.clock = services, app, clock

    async def feed(self, check_id: str, region: str, *results: ProbeResult) -> None:
        """Apply results of one region, 10 s apart, as the scheduler or an agent would."""
        check = next(c for c in self.services.config.checks if c.id == check_id)
        for result in results:
            observed_at = self.clock.advance(10)
            await self.services.engine.ingest(check, result, region=region, observed_at=observed_at)

    async def flush(self) -> None:
        """Store the raw results the batched writer holds."""
        assert await self.services.writer.flush(everything=True)

    async def get(
        self, path: str, *, auth: dict[str, str] | None = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """GET ``path`` with the admin token (or ``auth``)."""
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://t"
        ) as client:
            return await client.get(path, params=params, headers=AUTH if auth is None else auth)

    async def alerts(self, **params: Any) -> list[dict[str, Any]]:
        """The alert list for ``params``, asserting it answered 200."""
        response = await self.get("/api/admin/alerts", params=params)
        assert response.status_code == 200, response.text
        return list(response.json()["alerts"])


def config() -> Config:
    return parse_config(CONFIG)


@pytest.fixture
async def admin(database: Database, clock: FakeClock) -> Admin:
    """The app without its lifespan: no background writer, so each flush is the test's own."""
    services = build_services(
        config(), database, clock, metrics_registry=CollectorRegistry(), admin_token=TOKEN
    )
    app = create_app(services, run_checks=False)
    await services.engine.start()
    return Admin(services, app, clock)


def by_region(alert: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["region"]: r for r in alert["regions"]}


async def test_a_firing_alert_shows_each_region_and_the_failed_condition(admin: Admin) -> None:
    await admin.feed("api-check", "local", OK, STATUS_503, STATUS_503)
    await admin.feed("api-check", "tokyo", FAIL)
    await admin.flush()
    [alert] = await admin.alerts()
    assert alert["check_id"] == "api-check" and alert["component"] == "api"
    assert (alert["status"], alert["source"]) == ("firing", "check")
    assert alert["failure_status"] == "major_outage" and alert["resolved_at"] is None
    assert alert["incident_id"] is not None and alert["flapping"] is False
    local, tokyo = by_region(alert)["local"], by_region(alert)["tokyo"]
    assert [r["region"] for r in alert["regions"]] == ["local", "tokyo"]
    assert (local["state"], local["consecutive_failures"], local["last_ok"]) == ("firing", 2, False)
    assert (tokyo["state"], tokyo["consecutive_failures"]) == ("pending", 1)
    assert tokyo["last_error"] == "status 503, expected 200"
    result = local["last_result"]
    assert result["observed_at"] == local["last_run_at"]
    assert (result["ok"], result["duration_ms"]) == (False, 250.0)
    assert result["error"] == "[STATUS] == 200 → 503"  # the failure reason in words
    assert result["conditions"] == [
        {"condition": "[STATUS] == 200", "ok": False, "observed": 503},
        {"condition": "[RESPONSE_TIME] < 1000", "ok": True, "observed": 250},
    ]
    assert result["phases"] == {"connect": 0.001, "total": 0.25}
    assert tokyo["last_result"]["error"] == "status 503, expected 200"


async def test_the_newest_result_wins_even_when_an_older_one_is_stored_later(admin: Admin) -> None:
    await admin.feed("api-check", "local", STATUS_503, STATUS_503)
    await admin.flush()
    check = next(c for c in admin.services.config.checks if c.id == "api-check")
    late = admin.clock.now() - timedelta(minutes=5)  # an agent's backlog: stored, not applied
    await admin.services.engine.ingest(check, OK, region="local", observed_at=late)
    await admin.flush()
    [alert] = await admin.alerts()
    newest = by_region(alert)["local"]["last_result"]
    assert newest["ok"] is False
    assert datetime.fromisoformat(newest["observed_at"]) == admin.clock.now()


async def test_an_alert_whose_results_are_not_stored_yet_has_no_last_result(
    admin: Admin,
) -> None:
    await admin.feed("website-check", "local", FAIL)  # fires at once; the writer still holds it
    [alert] = await admin.alerts()
    [local] = alert["regions"]
    assert (local["state"], local["consecutive_failures"]) == ("firing", 1)
    assert local["last_result"] is None
    await admin.flush()
    [alert] = await admin.alerts()
    assert alert["regions"][0]["last_result"]["ok"] is False


async def test_status_all_includes_resolved_alerts_newest_first(admin: Admin) -> None:
    await admin.feed("login-check", "local", FAIL, FAIL, OK, OK)
    await admin.feed("api-check", "local", FAIL, FAIL)
    await admin.flush()
    assert [a["check_id"] for a in await admin.alerts()] == ["api-check"]
    [resolved] = await admin.alerts(status="resolved")
    assert resolved["check_id"] == "login-check" and resolved["resolved_at"] is not None
    assert by_region(resolved)["local"]["state"] == "ok"
    everything = await admin.alerts(status="all")
    assert [a["check_id"] for a in everything] == ["api-check", "login-check"]
    assert [a["check_id"] for a in await admin.alerts(status="all", limit=1)] == ["api-check"]


async def test_filters_by_component_and_source(admin: Admin) -> None:
    await admin.feed("api-check", "local", FAIL, FAIL)
    await admin.feed("login-check", "local", FAIL, FAIL)
    async with admin.services.database.transaction() as session:
        await open_alert(
            session=session,
            fingerprint="am-1",
            check_id=None,
            component_id="website",
            failure_status=ComponentStatus.PARTIAL_OUTAGE,
            summary="HighErrorRate",
            at=admin.clock.now(),
            source="alertmanager",
            labels={"alertname": "HighErrorRate", "component": "website"},
            episode="2026-11-21T09:00:00Z",
        )
    [login] = await admin.alerts(component="login")
    assert login["check_id"] == "login-check"
    [external] = await admin.alerts(source="alertmanager")
    assert external["regions"] is None and external["check_id"] is None
    assert external["labels"] == {"alertname": "HighErrorRate", "component": "website"}
    assert [a["check_id"] for a in await admin.alerts(source="check", component="api")] == [
        "api-check"
    ]
    assert await admin.alerts(source="user_reports") == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"status": "open"}, "status"),
        ({"source": "pagerduty"}, "source"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"component": "nowhere"}, "component"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_bad_filter_is_422_naming_the_parameter(
    admin: Admin, params: dict[str, str], parameter: str
) -> None:
    response = await admin.get("/api/admin/alerts", params=params)
    assert response.status_code == 422
    assert ["query", parameter] in [e["loc"] for e in response.json()["detail"]]


async def test_the_admin_token_is_required(admin: Admin) -> None:
    for auth in ({}, {"authorization": "Bearer wrong"}):
        for path in ("/api/admin/alerts", "/api/admin/checks/api-check"):
            assert (await admin.get(path, auth=auth)).status_code == 401
    assert (
        await admin.get("/api/admin/alerts", auth={}, params={"status": "bogus"})
    ).status_code == 401


async def test_a_check_shows_its_regions_whether_or_not_it_alerts(admin: Admin) -> None:
    await admin.feed("api-check", "tokyo", STATUS_503)
    await admin.flush()
    response = await admin.get("/api/admin/checks/api-check")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["component"], body["kind"], body["active"]) == (
        "api-check", "api", "http", True,
    )  # fmt: skip
    local, tokyo = body["regions"]
    assert (local["region"], local["state"], local["last_run_at"]) == ("local", "ok", None)
    assert local["last_result"] is None
    assert (tokyo["state"], tokyo["last_result"]["conditions"][0]["observed"]) == ("pending", 503)
    missing = await admin.get("/api/admin/checks/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


async def test_a_database_that_does_not_answer_is_503_not_a_traceback() -> None:
    database = Database(UNREACHABLE_DATABASE_URL)
    app = FastAPI()
    app.include_router(
        build_alerts_router(database, AccessGuard(database, FakeClock(), admin_token=TOKEN))
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.get("/api/admin/alerts", headers=AUTH)
    finally:
        await database.close()
    assert response.status_code == 503
    assert response.json() == {"detail": "the database is not answering; try again"}
