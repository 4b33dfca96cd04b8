"""The timeline admin API on SQLite and PostgreSQL: an incident's events, paging, exports, auth."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from monitor.admin.auth import AccessGuard
from monitor.admin.timeline_api import build_timeline_router
from monitor.app import build_services, create_app
from monitor.storage.database import Database
from tests.report.scenario import (
    HUMAN_REASON,
    EngineIncident,
    engine_incident,
    manual_incident,
    report_config,
)
from tests.support import START, UNREACHABLE_DATABASE_URL, FakeClock

AUTH = {"authorization": "Bearer t"}


@dataclass(frozen=True, slots=True)
class Served:
    app: FastAPI
    made: EngineIncident
    manual_id: int

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://t"
        ) as client:
            return await client.get(path, **{"headers": AUTH, **kwargs})


@pytest.fixture
async def served(database: Database, clock: FakeClock) -> AsyncIterator[Served]:
    made = await engine_incident(database, clock)
    manual_id = await manual_incident(database, clock)
    services = build_services(
        report_config(), database, clock, metrics_registry=CollectorRegistry(), admin_token="t"
    )
    app = create_app(services, run_checks=False)
    async with app.router.lifespan_context(app):
        yield Served(app, made, manual_id)


async def test_an_incidents_timeline_lists_its_events_in_order(served: Served) -> None:
    response = await served.get(f"/api/admin/incidents/{served.made.incident_id}/timeline")
    assert response.status_code == 200
    body = response.json()
    assert body["incident_id"] == served.made.incident_id
    events = body["events"]
    assert [e["kind"] for e in events[:3]] == [
        "alert_fired", "component_status_changed", "incident_opened",
    ]  # fmt: skip
    first = events[0]
    assert set(first) >= {"id", "at", "kind", "actor", "component_id", "check_id", "alert_id",
                          "reason", "data"}  # fmt: skip
    assert (first["component_id"], first["check_id"], first["actor"]) == (
        "market-data", "market-data-check", "engine",
    )  # fmt: skip
    times = [datetime.fromisoformat(e["at"]) for e in events]
    assert times == sorted(times) and times[0] == served.made.detected_at
    assert events[0]["at"].endswith("+00:00")
    lowered = next(e for e in events if e["kind"] == "severity_changed" and e["actor"] == "alice")
    assert lowered["reason"] == HUMAN_REASON
    assert lowered["data"] == {"from": "critical", "to": "moderate"}


@pytest.mark.parametrize("incident_id", ["999", "0", "abc", "-1", "99999999999999999999999"])
async def test_an_unknown_incident_is_a_404_with_an_error(served: Served, incident_id: str) -> None:
    for path in ("timeline", "export?format=json"):
        response = await served.get(f"/api/admin/incidents/{incident_id}/{path}")
        assert response.status_code == 404
        assert "no incident" in response.json()["error"]


async def test_the_routes_need_the_admin_token(served: Served) -> None:
    incident = served.made.incident_id
    for path in (f"/api/admin/incidents/{incident}/timeline", "/api/admin/timeline",
                 f"/api/admin/incidents/{incident}/export?format=md"):  # fmt: skip
        assert (await served.get(path, headers={})).status_code == 401
        wrong = {"authorization": "Bearer nope"}
        assert (await served.get(path, headers=wrong)).status_code == 401


async def test_the_global_timeline_pages_with_its_next_cursor(served: Served) -> None:
    everything = (await served.get("/api/admin/timeline", params={"limit": "1000"})).json()
    assert everything["more"] is False
    ids = [e["id"] for e in everything["events"]]
    assert ids == sorted(ids) and len(ids) > 10
    seen, cursor, more = [], "0", True
    while more:
        page = (
            await served.get("/api/admin/timeline", params={"since": cursor, "limit": 4})
        ).json()
        seen += [e["id"] for e in page["events"]]
        cursor, more = page["next"], page["more"]
    assert seen == ids
    last = await served.get("/api/admin/timeline", params={"since": cursor})
    assert last.json() == {"events": [], "next": cursor, "more": False}


async def test_the_global_timeline_starts_at_a_time(served: Served) -> None:
    since = served.made.acknowledged_at.isoformat()
    page = (await served.get("/api/admin/timeline", params={"since": since})).json()
    assert page["events"][0]["kind"] == "acknowledged"
    assert all(datetime.fromisoformat(e["at"]) >= served.made.acknowledged_at
               for e in page["events"])  # fmt: skip
    spaced = since.replace("+", " ")  # a '+' that was not URL-encoded arrives as a space
    again = (await served.get(f"/api/admin/timeline?since={spaced}")).json()
    assert again == page


@pytest.mark.parametrize(
    ("query", "problem"),
    [("since=yesterday", "since:"), ("since=2026-11-21T09:00:00", "UTC offset"),
     ("limit=0", "limit:"), ("limit=1001", "limit:"), ("limit=ten", "limit:")],
)  # fmt: skip
async def test_a_bad_cursor_or_limit_is_a_400(served: Served, query: str, problem: str) -> None:
    response = await served.get(f"/api/admin/timeline?{query}")
    assert response.status_code == 400
    assert problem in response.json()["error"]


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("json", "application/json"), ("csv", "text/csv; charset=utf-8"),
     ("md", "text/markdown; charset=utf-8")],
)  # fmt: skip
async def test_each_export_is_a_download(served: Served, fmt: str, media_type: str) -> None:
    incident = served.made.incident_id
    response = await served.get(f"/api/admin/incidents/{incident}/export", params={"format": fmt})
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["content-disposition"] == (
        f'attachment; filename="exwatch-incident-{incident}.{fmt}"'
    )
    text = response.content.decode("utf-8-sig")
    if fmt == "json":
        assert json.loads(text)["incident"]["id"] == incident
    elif fmt == "csv":
        assert response.content.startswith("\ufeff".encode())  # spreadsheets read it as UTF-8
        assert next(csv.reader(io.StringIO(text)))[0] == "at"
    else:
        assert text.startswith(f"# Incident report #{incident}: ")


async def test_an_unknown_format_is_a_400_naming_the_choices(served: Served) -> None:
    incident = served.made.incident_id
    response = await served.get(f"/api/admin/incidents/{incident}/export?format=pdf")
    assert response.status_code == 400
    assert response.json() == {"error": "format: unknown format 'pdf': use one of json, csv, md"}


async def test_an_open_manual_incident_exports_too(served: Served) -> None:
    response = await served.get(f"/api/admin/incidents/{served.manual_id}/export?format=md")
    assert response.status_code == 200
    assert "not resolved (ongoing)" in response.text
    assert "| a_kind_from_the_future | carol |" in response.text  # unknown kinds shown as stored


async def test_a_database_that_does_not_answer_is_a_503() -> None:
    unreachable = Database(UNREACHABLE_DATABASE_URL)
    app = FastAPI()
    access = AccessGuard(unreachable, FakeClock(), admin_token="t")
    app.include_router(build_timeline_router(unreachable, access))
    served = Served(app, EngineIncident(1, START, START, START), 2)
    try:
        for path in ("/api/admin/incidents/1/timeline", "/api/admin/timeline",
                     "/api/admin/incidents/1/export?format=csv"):  # fmt: skip
            response = await served.get(path)
            assert response.status_code == 503
            assert response.json() == {"error": "the database is not answering; try again"}
    finally:
        await unreachable.close()
