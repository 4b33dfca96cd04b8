"""A reload keeps state: runs in flight, alert counters, open incidents, and the new policies."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select

from monitor.domain import IncidentStatus
from monitor.storage.database import Database
from monitor.storage.tables import alerts, incidents
from tests.reload.support import FakeProbe, Running, running
from tests.support import FAIL, FakeClock

CRITICAL_LEVELS = {"critical": [{"targets": ["sre-primary"], "wait": "5m"}]}


async def fail(exwatch: Running, check_id: str, times: int = 1) -> None:
    """Feed failures of ``check_id`` as the config in force defines it."""
    check = next(c for c in exwatch.services.config.checks if c.id == check_id)
    for _ in range(times):
        exwatch.clock.advance(10)
        await exwatch.services.engine.ingest(check, FAIL)


async def rows(database: Database, table: Any) -> list[Any]:
    async with database.transaction() as session:
        return list((await session.execute(select(table).order_by(table.c.id))).all())


async def test_a_run_in_flight_finishes_under_the_new_definition_and_counts_go_on(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        document = exwatch.edited()
        document["checks"][0].update(ok=False, hold=True, failures_to_alert=3)
        exwatch.write(document)
        assert (await exwatch.reload()).status_code == 200
        await fail(exwatch, "spot-check", 2)  # two of three failures: no alert yet
        held = exwatch.services.config.checks[0]
        in_flight = asyncio.create_task(exwatch.services.scheduler.run_check(held))
        await asyncio.sleep(0.05)
        document["checks"][0]["interval"] = "60s"
        exwatch.write(document)
        assert (await exwatch.reload()).json()["checks"]["changed"] == ["spot-check"]
        FakeProbe.release()
        await in_flight
        # The third failure counted on from the two before the reload: the alert fired.
        [alert] = await rows(database, alerts)
        assert (alert.check_id, alert.status) == ("spot-check", "firing")


async def test_a_lower_threshold_applies_to_the_next_result(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        await fail(exwatch, "api-check")  # one of two: nothing yet
        assert await rows(database, alerts) == []
        document = exwatch.edited()
        document["checks"][1]["failures_to_alert"] = 1
        exwatch.write(document)
        assert (await exwatch.reload()).status_code == 200
        await fail(exwatch, "api-check")
        assert [a.check_id for a in await rows(database, alerts)] == ["api-check"]


async def test_an_open_incident_of_a_removed_check_and_component_stays_open(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        await fail(exwatch, "btc-check", 2)
        [incident] = await rows(database, incidents)
        removed_check = exwatch.services.config.checks[2]  # as a run in flight carries it
        document = exwatch.edited()
        document["components"] = [c for c in document["components"] if c["id"] != "btc-withdrawals"]
        document["checks"] = [c for c in document["checks"] if c["id"] != "btc-check"]
        exwatch.write(document)
        body = (await exwatch.reload()).json()
        assert body["components"]["removed"] == ["btc-withdrawals"]
        assert body["checks"]["removed"] == ["btc-check"]
        [alert] = await rows(database, alerts)
        assert alert.status == "resolved"  # as a restart with the new file would close it
        [still] = await rows(database, incidents)
        assert still.id == incident.id and still.status != IncidentStatus.RESOLVED
        [cleared] = await exwatch.events("alert_recovered")
        assert cleared.reason == "the check was removed from the config"
        # A late result of the removed check (a run that was in flight) changes nothing.
        await exwatch.services.engine.ingest(removed_check, FAIL)
        assert len(await rows(database, alerts)) == 1
        # The incident then ends as any recovered one does: resolved after its quiet time.
        clock.advance(3600)
        await exwatch.services.ticker.tick()
        [ended] = await rows(database, incidents)
        assert ended.status == IncidentStatus.RESOLVED


async def test_a_new_escalation_policy_pages_the_next_incident(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        document = exwatch.edited()
        document["escalation"] = {"levels": CRITICAL_LEVELS}
        exwatch.write(document)
        assert (await exwatch.reload()).json()["sections"] == ["escalation"]
        await fail(exwatch, "spot-check", 2)  # trading, major outage: critical
        [page] = await exwatch.events("page")
        assert page.data["targets"] == ["sre-primary"]


async def test_a_new_reminder_interval_is_used_by_the_incident_clock(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        await fail(exwatch, "spot-check", 2)
        document = exwatch.edited()
        document["incidents"] = {"update_every": {"critical": "2m"}}
        exwatch.write(document)
        assert (await exwatch.reload()).json()["sections"] == ["incidents"]
        clock.advance(150)
        await exwatch.services.ticker.tick()
        assert len(await exwatch.events("reminder")) == 1  # the default would wait 30 minutes
