"""Edge cases of the incident lifecycle found in review: reopen and ack, overrides holding
incidents open, maintenance never reopening, flapping across a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.domain import ComponentStatus, IncidentStatus
from monitor.maintenance import MaintenanceService
from monitor.storage.database import Database
from monitor.storage.maintenance import NewMaintenance
from tests.lifecycle_support import Lifecycle, lifecycle, lifecycle_config
from tests.support import FAIL, OK, FakeClock

TE = "trading-engine-check"


async def test_reopened_incident_escalates_again_and_can_be_acked(
    database: Database, clock: FakeClock
) -> None:
    config = lifecycle_config(incidents={"resolve_after": {"critical": "0s"}})
    h = await lifecycle(database, config, clock)
    await h.feed(TE, FAIL, FAIL)
    [incident] = await h.incidents()
    await h.responder.acknowledge(incident.id, clock.now(), actor="alice")
    await h.feed(TE, OK, OK)
    assert (await h.incidents())[0].status == IncidentStatus.RESOLVED
    clock.advance(60)
    await h.feed(TE, FAIL, FAIL)  # reopened within reopen_window
    [incident] = await h.incidents()
    assert incident.status == IncidentStatus.INVESTIGATING
    await h.tick_after(6 * 60)  # level 1 waited 5m unacked: level 2 must be paged
    levels = [p[0] for p in await h.pages()]
    assert incident.acknowledged_at is None, "the old ack survives the reopen"
    assert levels == [1, 1, 2]


@pytest.fixture
async def h(database: Database, clock: FakeClock) -> Lifecycle:
    return await lifecycle(database, lifecycle_config(), clock)


async def test_override_cleared_after_alerts_recovered_incident_recovers(h: Lifecycle) -> None:
    await h.feed("btc-trading-check", FAIL, FAIL)
    [incident] = await h.incidents()
    await h.responder.override(
        "btc-trading",
        ComponentStatus.MAJOR_OUTAGE,
        h.clock.now(),
        actor="alice",
        reason="halt while we look",
        message={"ja": "停止", "en": "halted"},
    )
    await h.feed("btc-trading-check", OK, OK)  # monitoring sees it fine; the halt holds
    assert (await h.incidents())[0].recovered_at is None
    await h.responder.override("btc-trading", None, h.clock.now(), actor="alice", reason="over")
    assert await h.status("btc-trading") == ComponentStatus.OPERATIONAL
    [incident] = await h.incidents()
    assert incident.recovered_at is not None, "incident stuck: nothing failing, never recovers"


async def test_maintenance_does_not_reopen_a_recent_incident(
    database: Database, clock: FakeClock
) -> None:
    config = lifecycle_config(incidents={"resolve_after": {"critical": "0s"}})
    h = await lifecycle(database, config, clock)
    svc = MaintenanceService(engine=h.engine, database=database, config=config, clock=clock)
    await h.feed(TE, FAIL, FAIL, OK, OK)
    assert (await h.incidents())[0].status == IncidentStatus.RESOLVED
    start = clock.now() + timedelta(minutes=1)
    new = NewMaintenance(
        name_ja="m",
        name_en="m",
        body_ja="b",
        body_en="b",
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        components=("trading-engine",),
    )
    await svc.schedule(new, actor="admin")
    clock.current = start
    await svc.tick(clock.now())
    assert await h.status("trading-engine") == ComponentStatus.UNDER_MAINTENANCE
    pages_before = len(await h.pages())
    await h.feed(TE, FAIL, FAIL)  # expected during maintenance
    [incident] = await h.incidents()
    assert incident.status == IncidentStatus.RESOLVED, "maintenance reopened the incident"
    assert len(await h.pages()) == pages_before


async def test_flapping_survives_a_restart(database: Database, clock: FakeClock) -> None:
    checks_flap = {"changes": 3, "window": "15m"}
    config = lifecycle_config(incidents={"resolve_after": {"critical": "0s"}})
    config = config.model_copy(
        update={
            "checks": tuple(
                c.model_copy(update={"flapping": c.flapping.model_validate(checks_flap)})
                for c in config.checks
            )
        }
    )
    h = await lifecycle(database, config, clock)
    for _ in range(2):
        await h.feed(TE, FAIL, FAIL, OK, OK)
    assert len(await h.events("alert_flapping")) == 1
    h2 = await lifecycle(database, config, clock)
    await h2.feed(TE, OK)  # still within the flapping window, one passing result
    firing = [a for a in await h2.alert_rows() if a.status == "firing"]
    assert firing, "restart dropped the flap history: the held alert resolved at once"
