"""The user-reported alert on SQLite and PostgreSQL: threshold, one alert, tick, restart, limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from monitor.domain import ComponentStatus
from monitor.reports import Accepted, Refused, Report
from monitor.storage.database import Database
from monitor.storage.reports import record_report
from monitor.storage.tables import alerts, timeline_events, user_reports
from tests.reports.support import Served, new_desk, reports_config, serve
from tests.support import FakeClock


@pytest.fixture
async def served(database: Database, clock: FakeClock) -> AsyncIterator[Served]:
    async with serve(database, clock, reports_config()) as running:
        yield running


async def reports_from_many(served: Served, count: int, component: str = "login") -> None:
    """Post ``count`` reports, each from another address, all accepted."""
    for n in range(count):
        response = await served.report(component, f"problem {n}", address=f"198.51.100.{n + 1}")
        assert response.status_code == 201, response.text


async def timeline(served: Served, kind: str) -> list[str]:
    async with served.services.database.transaction() as session:
        rows = await session.execute(
            select(timeline_events.c.reason)
            .where(timeline_events.c.kind == kind)
            .order_by(timeline_events.c.id)
        )
        return [str(reason) for reason in rows.scalars()]


async def test_the_threshold_raises_exactly_one_alert(served: Served) -> None:
    await reports_from_many(served, 4)
    assert await served.user_report_alerts() == []
    await served.report(address="203.0.113.5")
    [alert] = await served.user_report_alerts()
    assert (alert.fingerprint, alert.component_id, alert.status, alert.source) == (
        "reports:login", "login", "firing", "user_reports",
    )  # fmt: skip
    assert alert.summary == "5 user reports about Login within 10m"
    assert await served.status("login") == ComponentStatus.OPERATIONAL  # unverified: no status
    assert await timeline(served, "alert_fired") == ["5 user reports about Login within 10m"]
    await reports_from_many(served, 3)  # more reports, same alert
    await served.desk.tick(served.clock.now())
    assert len(await served.user_report_alerts()) == 1
    assert len(await timeline(served, "alert_fired")) == 1
    assert await served.user_report_alerts(alerts.c.component_id != "login") == []


async def test_concurrent_reports_at_the_threshold_raise_one_alert(served: Served) -> None:
    await reports_from_many(served, 3)
    answers = await asyncio.gather(*(served.report(address=f"203.0.113.{n}") for n in range(1, 9)))
    assert {a.status_code for a in answers} == {201}
    assert len(await served.user_report_alerts()) == 1
    assert len(await timeline(served, "alert_fired")) == 1


async def test_the_tick_clears_once_a_window_passed_quietly(served: Served) -> None:
    await reports_from_many(served, 5)
    served.clock.advance(300)
    await served.desk.tick(served.clock.now())
    assert len(await served.user_report_alerts(alerts.c.status == "firing")) == 1
    served.clock.advance(301)
    await served.desk.tick(served.clock.now())
    [alert] = await served.user_report_alerts()
    assert alert.status == "resolved" and alert.resolved_at == served.clock.now()
    assert await timeline(served, "alert_recovered") == [
        "no user reports about Login in the last 10m"
    ]
    await served.desk.tick(served.clock.advance(60))  # nothing more to do
    assert len(await timeline(served, "alert_recovered")) == 1


async def test_the_alert_lasts_a_whole_window_and_says_how_many_came(served: Served) -> None:
    await reports_from_many(served, 4)
    served.clock.advance(540)
    await served.report(address="203.0.113.9")  # the fifth, nine minutes after the first
    served.clock.advance(61)  # the first four have aged out: one report left in the window
    await served.desk.tick(served.clock.now())
    assert len(await served.user_report_alerts(alerts.c.status == "firing")) == 1
    served.clock.advance(300)
    await served.report(address="203.0.113.10")
    served.clock.advance(240)  # ten minutes since it fired; one report in the last ten
    await served.desk.tick(served.clock.now())
    assert await timeline(served, "alert_recovered") == [
        "only 1 user report about Login in the last 10m, fewer than the 5 that raise the alert"
    ]


async def test_reports_still_coming_keep_the_alert_firing(served: Served) -> None:
    for _ in range(4):  # five reports every five minutes, each address once a round
        await reports_from_many(served, 5)
        served.clock.advance(300)
        await served.desk.tick(served.clock.now())
    assert len(await served.user_report_alerts(alerts.c.status == "firing")) == 1
    assert len(await served.user_report_alerts()) == 1


async def test_the_tick_raises_an_alert_a_crash_left_behind(served: Served) -> None:
    async with served.services.database.transaction() as session:
        for n in range(5):  # stored, but the process died before raising the alert
            await record_report(
                session=session, component_id="website", body=f"down {n}", contact=None,
                client=f"{n:064x}", at=served.clock.now(),
            )  # fmt: skip
    await served.desk.tick(served.clock.now())
    [alert] = await served.user_report_alerts()
    assert alert.component_id == "website" and alert.status == "firing"


async def test_a_new_desk_still_counts_the_stored_reports(served: Served) -> None:
    desk = served.desk
    for n in range(5):
        assert isinstance(await desk.submit(Report("login", f"r{n}"), "192.0.2.1"), Accepted)
    refused = await desk.submit(Report("login", "again"), "192.0.2.1")
    assert isinstance(refused, Refused) and refused.retry_after == pytest.approx(3600)
    served.clock.advance(1000)
    restarted = new_desk(served.services)  # empty memory, as after a restart
    refused = await restarted.submit(Report("login", "again"), "192.0.2.1")
    assert isinstance(refused, Refused) and refused.retry_after == pytest.approx(2600)
    assert "at most 5 reports per 1h" in refused.reason
    assert isinstance(await restarted.submit(Report("login", "other"), "192.0.2.2"), Accepted)
    served.clock.advance(2600)
    assert isinstance(await restarted.submit(Report("login", "later"), "192.0.2.1"), Accepted)
    assert await served.count(user_reports) == 7


async def test_a_flood_from_many_addresses_is_held_off(served: Served) -> None:
    desk = new_desk(served.services, flood_limit=3, flood_window=60.0)
    outcomes = [await desk.submit(Report("login", "x"), f"198.51.100.{n}") for n in range(5)]
    assert [type(o).__name__ for o in outcomes] == ["Accepted"] * 3 + ["Refused"] * 2
    assert isinstance(outcomes[-1], Refused) and outcomes[-1].retry_after == pytest.approx(60)
    assert await served.count(user_reports) == 3


async def test_an_unknown_component_never_reaches_the_database(served: Served) -> None:
    with pytest.raises(ValueError, match="unknown component 'nope'"):
        await served.desk.submit(Report("nope", "x"), "192.0.2.1")
    assert await served.count(user_reports) == 0
