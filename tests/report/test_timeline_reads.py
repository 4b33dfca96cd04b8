"""The timeline read queries on SQLite and PostgreSQL: an incident's events, and global paging."""

from __future__ import annotations

from datetime import timedelta

from monitor.storage.database import Database
from monitor.storage.timeline_reads import (
    MAX_ID,
    events_page,
    incident_events,
    incident_record,
)
from tests.report.scenario import engine_incident, report_config
from tests.support import FAIL, OK, FakeClock
from tests.test_engine import Harness


async def test_an_incident_holds_its_alerts_and_status_changes_in_time_order(
    database: Database, clock: FakeClock
) -> None:
    made = await engine_incident(database, clock)
    async with database.transaction() as session:
        events = await incident_events(session=session, incident_id=made.incident_id)
    kinds = [e.kind for e in events]
    assert kinds[:4] == [
        "alert_fired", "component_status_changed", "incident_opened", "update_posted",
    ]  # fmt: skip
    assert kinds[-3:] == ["incident_recovered", "incident_resolved", "update_posted"]
    assert kinds.count("alert_fired") == 2 and kinds.count("alert_recovered") == 2
    assert kinds.count("component_status_changed") == 4
    assert [(e.at, e.id) for e in events] == sorted((e.at, e.id) for e in events)
    assert {e.component_id for e in events if e.kind == "alert_fired"} == {"market-data", "charts"}
    assert [e.actor for e in events if e.kind == "acknowledged"] == ["bob"]


async def test_an_unrelated_incident_at_the_same_time_stays_out(
    database: Database, clock: FakeClock
) -> None:
    harness = Harness(database, report_config(), clock)
    await harness.engine.start()
    await harness.feed("market-data-check", FAIL, FAIL)
    await harness.feed("login-check", FAIL, FAIL)
    await harness.feed("login-check", OK, OK)
    await harness.feed("market-data-check", OK, OK)
    first, second = await harness.incidents()
    async with database.transaction() as session:
        market = await incident_events(session=session, incident_id=first.id)
        login = await incident_events(session=session, incident_id=second.id)
    assert {e.component_id for e in market} == {"market-data", None}
    assert {e.component_id for e in login} == {"login", None}
    assert not {e.id for e in market} & {e.id for e in login}


async def test_unknown_incidents_have_no_record_and_no_events(database: Database) -> None:
    async with database.transaction() as session:
        for incident_id in (1, 0, -3, MAX_ID, MAX_ID + 1, 10**30):
            assert await incident_record(session=session, incident_id=incident_id) is None
            assert await incident_events(session=session, incident_id=incident_id) == []


async def test_the_global_timeline_pages_by_id_and_starts_at_a_time(
    database: Database, clock: FakeClock
) -> None:
    await engine_incident(database, clock)
    async with database.transaction() as session:
        everything = await events_page(session=session, limit=1000)
        pages, cursor = [], 0
        while page := await events_page(session=session, after_id=cursor, limit=7):
            pages.append(page)
            cursor = page[-1].id
        later = everything[len(everything) // 2].at
        since = await events_page(session=session, since=later, limit=1000)
        past_the_end = await events_page(session=session, after_id=MAX_ID + 5, limit=10)
        future = await events_page(session=session, since=later + timedelta(days=1), limit=10)
    assert [e.id for e in everything] == sorted(e.id for e in everything)
    assert [e for page in pages for e in page] == everything
    assert all(len(page) <= 7 for page in pages)
    assert since == [e for e in everything if e.at >= later]
    assert past_the_end == [] and future == []
