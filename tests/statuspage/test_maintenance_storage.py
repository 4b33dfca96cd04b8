"""The read model loads maintenance windows, override messages and announced statuses (SQLite and
PostgreSQL), and what the public sees never carries a responder's internal reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from monitor.app import build_services, create_app
from monitor.domain import ComponentStatus
from monitor.storage.database import Database
from monitor.storage.tables import components, incident_updates, incidents
from monitor.storage.views import load_status
from monitor.views import AffectedComponent, MaintenanceStatus, StatusView
from statuspage.snapshot import SnapshotStore
from tests.statuspage.support import (
    HALT,
    OVERRIDE_REASON,
    SITE,
    hours,
    insert_components,
    insert_window,
)
from tests.support import START, FakeClock
from tests.test_engine import make_config


async def load(database: Database, recent: int = 50) -> StatusView:
    """Return the read model as the publisher loads it."""
    async with database.transaction() as session:
        return await load_status(session=session, site=SITE, now=START, recent=recent)


async def test_windows_load_with_their_components_and_cancelled_ones_stay_out(
    database: Database,
) -> None:
    async with database.transaction() as session:
        await insert_components(session)
        done = await insert_window(session, status="completed", start=START - hours(30))
        active = await insert_window(
            session, status="in_progress", start=START - hours(1), component_ids=("a", "b")
        )
        upcoming = await insert_window(session, status="scheduled", start=START + hours(5))
        await insert_window(session, status="cancelled", start=START + hours(2))
    shown = await load(database)
    assert [m.id for m in shown.maintenances] == [upcoming, active, done]  # newest start first
    by_id = {m.id: m for m in shown.maintenances}
    running = by_id[active]
    assert running.status == MaintenanceStatus.IN_PROGRESS and running.is_active
    assert running.component_ids == ("b", "a")  # page order: b is position 1, a position 2
    assert running.names == {"ja": "in_progressの作業", "en": "in_progress work"}
    assert running.bodies == {"ja": "詳細", "en": "Details"}
    assert (running.scheduled_start, running.scheduled_end) == (START - hours(1), START + hours(1))
    assert running.started_at == START - hours(1) and running.ended_at is None
    assert running.created_at == running.updated_at == START - hours(25)
    assert by_id[done].ended_at == START - hours(28)
    assert by_id[upcoming].is_upcoming and by_id[upcoming].started_at is None


async def test_current_windows_are_kept_beyond_the_recent_limit(database: Database) -> None:
    async with database.transaction() as session:
        await insert_components(session)
        finished = [
            await insert_window(session, status="completed", start=START - hours(10 * n))
            for n in range(1, 4)
        ]
        upcoming = await insert_window(session, status="scheduled", start=START + hours(400))
        active = await insert_window(session, status="in_progress", start=START)
    shown = await load(database, recent=2)
    assert [m.id for m in shown.maintenances] == [upcoming, active, finished[0], finished[1]]


async def test_the_override_message_loads_and_the_reason_does_not(database: Database) -> None:
    async with database.transaction() as session:
        await insert_components(session)
        await insert_window(session, status="in_progress", start=START - hours(1))
    shown = await load(database)
    halted, calm = shown.component("a"), shown.component("b")
    assert halted is not None and calm is not None
    assert halted.override_message == HALT and halted.status == ComponentStatus.MAJOR_OUTAGE
    assert calm.override_message is None
    assert OVERRIDE_REASON not in repr(shown)


async def test_a_message_in_one_language_is_shown_in_both(database: Database) -> None:
    async with database.transaction() as session:
        await insert_components(session)
        await session.execute(
            components.update()
            .where(components.c.id == "b")
            .values(override_message_en="Deposits paused")
        )
    calm = (await load(database)).component("b")
    assert calm is not None and calm.override_message == {
        "ja": "Deposits paused",
        "en": "Deposits paused",
    }


async def test_every_public_document_shows_the_message_and_hides_the_reason(
    database: Database,
) -> None:
    async with database.transaction() as session:
        await insert_components(session)
        await insert_window(session, status="in_progress", start=START - hours(1))
        await insert_window(session, status="scheduled", start=START + hours(20))
    store = SnapshotStore()
    store.publish(await load(database))
    for language in ("ja", "en"):
        index = store.get("/", language)
        assert index is not None and HALT[language] in index.body.decode()
    documents = [
        store.get(path, language)
        for path in (
            "/", "/api/v2/summary.json", "/api/v2/components.json",
            "/api/v2/scheduled-maintenances.json", "/api/v2/scheduled-maintenances/active.json",
        )
        for language in ("ja", "en")
    ]  # fmt: skip
    assert all(d is not None and OVERRIDE_REASON.encode() not in d.body for d in documents)


async def insert_incident_update(database: Database, announced: Any) -> None:
    """Write an open incident on ``a`` with one update announcing ``announced`` (raw JSON)."""
    async with database.transaction() as session:
        incident_id = await session.scalar(
            insert(incidents)
            .returning(incidents.c.id)
            .values(
                name_ja="停止",
                name_en="Halt",
                status="identified",
                severity="critical",
                severity_reason="why",
                started_at=START,
                created_at=START,
                updated_at=START,
            )
        )
        await session.execute(
            insert(incident_updates).values(
                incident_id=incident_id,
                status="identified",
                body_ja="停止中",
                body_en="Halted",
                affected_components=announced,
                created_at=START,
            )
        )


async def test_announced_statuses_load_in_their_own_shape(database: Database) -> None:
    async with database.transaction() as session:
        await insert_components(session)
    await insert_incident_update(
        database,
        [
            {"id": "a", "status": "major_outage"},
            {"id": "b", "status": "operational", "old_status": "partial_outage"},
            {"id": "c", "status": "on fire"},
            "garbage",
            {"status": "major_outage"},
        ],
    )
    [incident] = (await load(database)).incidents
    assert incident.updates[0].affected_components == (
        AffectedComponent("a", ComponentStatus.MAJOR_OUTAGE, None),
        AffectedComponent("b", ComponentStatus.OPERATIONAL, ComponentStatus.PARTIAL_OUTAGE),
    )


@pytest.mark.parametrize("announced", [None, []])
async def test_an_update_announcing_nothing_loads_as_none(
    database: Database, announced: Any
) -> None:
    await insert_incident_update(database, announced)
    [incident] = (await load(database)).incidents
    assert incident.updates[0].affected_components is None


@pytest.fixture
async def app(tmp_path: Any) -> AsyncIterator[FastAPI]:
    """The whole app on a fresh SQLite file, without running checks."""
    from monitor.storage.migrate import upgrade

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'page.db'}")
    await upgrade(database)
    application = create_app(build_services(make_config(), database, FakeClock()), run_checks=False)
    async with application.router.lifespan_context(application):
        yield application
    await database.close()


async def test_the_served_api_and_page_show_a_window(app: FastAPI) -> None:
    services = app.state.services
    async with services.database.transaction() as session:
        window = await insert_window(
            session, status="in_progress", start=START - hours(1), component_ids=("trading-engine",)
        )
    await services.publisher.publish_now()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        active = (await client.get("/api/v2/scheduled-maintenances/active.json?lang=en")).json()
        upcoming = (await client.get("/api/v2/scheduled-maintenances/upcoming.json")).json()
        page = await client.get("/?lang=ja")
    [item] = active["scheduled_maintenances"]
    assert item["id"] == f"m{window}" and item["components"][0]["id"] == "trading-engine"
    assert upcoming["scheduled_maintenances"] == []
    assert "in_progressの作業" in page.text and "trading-engine(ja)" in page.text
