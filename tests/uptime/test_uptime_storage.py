"""The uptime read model loaded from SQLite and PostgreSQL: rollups, raw results, the timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import ComponentStatus
from monitor.storage import uptime as uptime_storage
from monitor.storage.database import Database
from monitor.storage.tables import (
    checks,
    component_groups,
    components,
    incident_components,
    incidents,
    probe_results,
    probe_rollups,
    timeline_events,
)
from monitor.storage.views import load_status
from monitor.views import SiteView

SITE = SiteView("demo", "Demo", "https://status.example", "Asia/Tokyo", ("ja", "en"))
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # 18:00 in Tokyo
DAY0, DAY1, DAY2, TODAY = (date(2026, 11, d) for d in (18, 19, 20, 21))
OP, MAJOR = ComponentStatus.OPERATIONAL, ComponentStatus.MAJOR_OUTAGE


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    """Return 2026-11-``day`` ``hour``:``minute`` in Tokyo."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)


async def write_history(session: AsyncSession) -> None:
    """Write ``a`` (old, two checks, one removed), ``b`` (new, failing) and ``c`` (no checks)."""
    old = NOW - timedelta(days=200)
    await session.execute(
        insert(component_groups).values(
            id="g", name_ja="グループ", name_en="Group", position=0, created_at=old, updated_at=old
        )
    )
    common = {"group_id": "g", "impact_class": "trading", "updated_at": NOW}
    for row in (
        {"id": "a", "name_ja": "A", "name_en": "A", "position": 0, "created_at": old},
        {"id": "b", "name_ja": "B", "name_en": "B", "position": 1, "created_at": jst(20, 12),
         "status": "major_outage"},
        {"id": "c", "name_ja": "C", "name_en": "C", "position": 2, "created_at": old},
    ):  # fmt: skip
        await session.execute(insert(components).values(**row, **common))
    await session.execute(
        insert(checks),
        [
            {"id": "a-http", "component_id": "a", "kind": "http", "created_at": old},
            {
                "id": "a-old",
                "component_id": "a",
                "kind": "http",
                "created_at": old,
                "active": False,
            },
            {"id": "b-http", "component_id": "b", "kind": "http", "created_at": old},
        ],
    )
    await _write_probe_data(session)
    await _write_timeline(session)


async def _write_probe_data(session: AsyncSession) -> None:
    def rollup(check_id: str, region: str, minute: datetime) -> dict[str, Any]:
        return {
            "check_id": check_id, "region": region, "minute": minute, "count": 2, "failures": 0,
            "latency_sum_ms": 20.0, "sketch": {},
        }  # fmt: skip

    await session.execute(
        insert(probe_rollups),
        [
            rollup("a-http", "tokyo", jst(19, 0, 0)),  # the very first minute of the day
            rollup("a-old", "local", jst(20, 23, 59)),  # its last minute, from a removed check
            rollup("a-http", "local", jst(18, 0, 0) - timedelta(minutes=1)),  # the day before
            rollup("b-http", "local", jst(21, 10)),
        ],
    )
    await session.execute(
        insert(probe_results).values(
            check_id="a-http", region="local", observed_at=jst(21, 17, 59), ok=True, duration_ms=3
        )
    )


async def _write_timeline(session: AsyncSession) -> None:
    changed = "component_status_changed"
    await session.execute(
        insert(timeline_events),
        [
            {"at": jst(20, 13), "kind": changed, "component_id": "b",
             "data": {"from": "operational", "to": "major_outage"}},
            {"at": jst(20, 14), "kind": changed, "component_id": "b", "data": {"to": "nonsense"}},
            {"at": jst(20, 14), "kind": changed, "component_id": "b", "data": ["not", "a", "dict"]},
            {"at": jst(19, 3), "kind": "alert_fired", "component_id": "a", "data": {}},
            {"at": jst(19, 1), "kind": changed, "component_id": "a",
             "data": {"from": "operational", "to": "under_maintenance"}},
            {"at": jst(19, 2), "kind": changed, "component_id": "a",
             "data": {"from": "under_maintenance", "to": "operational"}},
        ],
    )  # fmt: skip
    opened = await session.scalar(
        insert(incidents)
        .returning(incidents.c.id)
        .values(
            name_ja="B障害", name_en="B outage", status="investigating", severity="critical",
            severity_reason="r", started_at=jst(20, 13), created_at=jst(20, 13),
            updated_at=jst(20, 13),
        )
    )  # fmt: skip
    await session.execute(
        insert(incident_components).values(
            incident_id=opened, component_id="b", worst_status="major_outage", added_at=jst(20, 13)
        )
    )


async def test_uptime_is_loaded_for_every_component(database: Database) -> None:
    async with database.transaction() as session:
        await write_history(session)
    async with database.transaction() as session:
        view = await load_status(session=session, site=SITE, now=NOW, uptime_days=4)
    a, b, c = (view.uptime[cid].days for cid in ("a", "b", "c"))
    assert [d.day for d in a] == [DAY0, DAY1, DAY2, TODAY]
    # a: rollups in two regions and from a removed check, raw results today; the minute just
    # before the 18th (Tokyo) is not the 18th's. An hour of maintenance is not downtime.
    assert [d.worst_status for d in a] == [None, ComponentStatus.UNDER_MAINTENANCE, OP, OP]
    assert a[1].maintenance == timedelta(hours=1) and a[1].outage == timedelta(0)
    assert a[3].observed == timedelta(hours=18)
    # b: created on the 20th at noon; no probe data that day but a status change, so data:
    # a major outage from 13:00 on (malformed events are left out).
    assert [d.worst_status for d in b] == [None, None, MAJOR, MAJOR]
    assert b[2].observed == timedelta(hours=12) and b[2].outage == timedelta(hours=11)
    assert b[3].outage == timedelta(hours=18) and b[3].uptime_percent == 0.0
    named = [[ref.names["en"] for ref in d.incidents] for d in b]
    assert named == [[], [], ["B outage"], ["B outage"]]
    # c: no checks, so every day it existed counts.
    assert all(d.worst_status == OP for d in c)
    assert view.uptime["a"].uptime_percent == 100.0 and view.uptime[
        "b"
    ].uptime_percent == pytest.approx(100 / 30)


async def test_a_check_without_any_data_leaves_its_days_empty(database: Database) -> None:
    async with database.transaction() as session:
        await write_history(session)
    async with database.transaction() as session:
        view = await load_status(session=session, site=SITE, now=NOW + timedelta(days=30))
    assert len(view.uptime["a"].days) == 90
    quiet = [d for d in view.uptime["a"].days if d.day > TODAY]
    assert quiet and all(not d.has_data for d in quiet)


async def test_no_components_no_uptime(database: Database) -> None:
    async with database.transaction() as session:
        view = await load_status(session=session, site=SITE, now=NOW)
    assert view.uptime == {}


async def test_sources_spread_over_several_queries_give_the_same_days(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.transaction() as session:
        await write_history(session)
    async with database.transaction() as session:
        whole = await load_status(session=session, site=SITE, now=NOW, uptime_days=4)
    monkeypatch.setattr(uptime_storage, "SOURCES_PER_QUERY", 1)  # one component per query
    assert uptime_storage._batches([("a", "1"), ("b", "2"), ("a", "3")]) == [
        [("a", "1"), ("a", "3")],
        [("b", "2")],
    ]
    async with database.transaction() as session:
        split = await load_status(session=session, site=SITE, now=NOW, uptime_days=4)
    assert split.uptime == whole.uptime


async def test_a_page_with_more_checks_than_sqlite_allows_in_one_select(
    database: Database,
) -> None:
    # SQLite refuses a compound SELECT of more than 500 terms: 600 checks over three components
    # must still load (a batch never splits one component's checks).
    async with database.transaction() as session:
        await write_history(session)
        await session.execute(
            insert(checks),
            [
                {"id": f"c-{n}", "component_id": "abc"[n % 3], "kind": "http", "created_at": NOW}
                for n in range(600)
            ],
        )
        await session.execute(
            insert(probe_rollups),
            [
                {"check_id": f"c-{n}", "region": "local", "minute": jst(20, 12), "count": 1,
                 "failures": 0, "latency_sum_ms": 1.0, "sketch": {}}
                for n in range(600)
            ],
        )  # fmt: skip
    async with database.transaction() as session:
        view = await load_status(session=session, site=SITE, now=NOW, uptime_days=4)
    assert len(view.uptime["c"].days) == 4
