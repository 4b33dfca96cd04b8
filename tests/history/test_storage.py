"""``load_history`` reads every incident and public window, in five queries (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert

from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.history_views import HistoryView
from monitor.storage.database import Database
from monitor.storage.history import load_history
from monitor.storage.tables import incident_components, incident_updates, incidents
from monitor.storage.views import load_status
from monitor.views import AffectedComponent, MaintenanceStatus
from statuspage.feeds import FEED_ENTRIES
from tests.history.support import parse, render
from tests.statuspage.support import SITE, hours, insert_components, insert_window
from tests.support import START

MANY = 60
"""More than the 50 newest the status read model loads."""


async def insert_incident(session: Any, *, number: int, started: datetime) -> int:
    """Write incident ``number`` on ``b`` then ``a`` with two updates; return its id."""
    incident_id = await session.scalar(
        insert(incidents)
        .returning(incidents.c.id)
        .values(
            name_ja=f"障害{number}", name_en=f"Incident {number}", status="resolved",
            severity="moderate", severity_reason="policy", started_at=started,
            created_at=started, updated_at=started + hours(1), resolved_at=started + hours(1),
        )
    )  # fmt: skip
    await session.execute(
        insert(incident_components),
        [
            {"incident_id": incident_id, "component_id": "b", "worst_status": "major_outage",
             "added_at": started},
            {"incident_id": incident_id, "component_id": "a", "worst_status": "partial_outage",
             "added_at": started + hours(0.5)},
        ],
    )  # fmt: skip
    announced = [{"id": "b", "status": "major_outage", "old_status": "operational"}]
    await session.execute(
        insert(incident_updates),
        [
            {"incident_id": incident_id, "status": "investigating", "body_ja": "調査中",
             "body_en": "Investigating", "created_at": started, "affected_components": announced},
            {"incident_id": incident_id, "status": "resolved", "body_ja": "解決",
             "body_en": "Resolved", "created_at": started + hours(1), "affected_components": None},
        ],
    )  # fmt: skip
    return int(incident_id)


@contextmanager
def counted(database: Database) -> Iterator[list[str]]:
    """Collect the SQL statements run on ``database`` inside the block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def load(database: Database) -> HistoryView:
    """Return the history as the publisher loads it."""
    async with database.transaction() as session:
        return await load_history(session=session)


async def test_every_incident_loads_with_updates_and_components(database: Database) -> None:
    async with database.transaction() as session:
        await insert_components(session)
        ids = [
            await insert_incident(session, number=n, started=START - hours(24 * n))
            for n in range(1, MANY + 1)
        ]
    history = await load(database)
    assert [i.id for i in history.incidents] == ids  # newest start first, all of them
    oldest = history.incidents[-1]
    assert oldest.names == {"ja": f"障害{MANY}", "en": f"Incident {MANY}"}
    assert (oldest.status, oldest.severity) == (IncidentStatus.RESOLVED, Severity.MODERATE)
    assert oldest.started_at == START - hours(24 * MANY)
    assert oldest.resolved_at == oldest.started_at + hours(1)
    assert oldest.component_ids == ("b", "a")  # in the order they were affected
    assert [u.status for u in oldest.updates] == [
        IncidentStatus.RESOLVED,
        IncidentStatus.INVESTIGATING,
    ]
    assert oldest.updates[1].bodies == {"ja": "調査中", "en": "Investigating"}
    assert oldest.updates[1].affected_components == (
        AffectedComponent("b", ComponentStatus.MAJOR_OUTAGE, ComponentStatus.OPERATIONAL),
    )
    assert all(u.incident_id == oldest.id for u in oldest.updates)


async def test_every_public_window_loads_and_cancelled_ones_stay_out(database: Database) -> None:
    async with database.transaction() as session:
        await insert_components(session)
        old = [
            await insert_window(session, status="completed", start=START - hours(24 * n))
            for n in range(1, MANY + 1)
        ]
        running = await insert_window(
            session, status="in_progress", start=START - hours(1), component_ids=("a", "b")
        )
        upcoming = await insert_window(session, status="scheduled", start=START + hours(5))
        await insert_window(session, status="cancelled", start=START + hours(2))
    history = await load(database)
    assert [m.id for m in history.maintenances] == [upcoming, running, *old]
    by_id = {m.id: m for m in history.maintenances}
    assert by_id[running].component_ids == ("b", "a")  # page order
    assert by_id[running].status == MaintenanceStatus.IN_PROGRESS
    assert by_id[old[-1]].ended_at == START - hours(24 * MANY - 2)
    assert by_id[upcoming].started_at is None


async def test_one_query_per_table_whatever_the_size(database: Database) -> None:
    async with database.transaction() as session:
        await insert_components(session)
        for n in range(1, 6):
            await insert_incident(session, number=n, started=START - hours(24 * n))
            await insert_window(session, status="completed", start=START - hours(24 * n))
    with counted(database) as statements:
        history = await load(database)
    assert len(history.incidents) == 5 and len(history.maintenances) == 5
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # Incidents, their updates, components and postmortems; windows and their components.
    assert len(selects) == 6, selects


async def test_an_empty_database_has_an_empty_history(database: Database) -> None:
    assert await load(database) == HistoryView()


async def test_the_loaded_history_renders_beyond_the_status_read_model(database: Database) -> None:
    async with database.transaction() as session:
        await insert_components(session)
        ids = [
            await insert_incident(session, number=n, started=START - hours(24 * n))
            for n in range(1, MANY + 1)
        ]
        await insert_window(session, status="completed", start=START - hours(30))
    async with database.transaction() as session:
        shown = await load_status(session=session, site=SITE, now=START)
        history = await load_history(session=session)
    documents = render(shown, history, "en")
    shown_ids = {item.id for item in shown.incidents}
    assert len(shown_ids) == 50  # the snapshot renders these; the extras add the older ten
    assert {iid for iid in ids if f"/incidents/{iid}" in documents} == set(ids) - shown_ids
    pages = [p for p in documents if p.startswith("/history") and not p.endswith((".atom", ".rss"))]
    linked = "".join(documents[p][0].decode() for p in pages)
    assert all(f'href="/incidents/{iid}?lang=en"' in linked for iid in ids)
    entries = parse(documents["/components/b/history.atom"][0]).entries
    assert len(entries) == FEED_ENTRIES and entries[0].title == "[Resolved] Incident 1"
