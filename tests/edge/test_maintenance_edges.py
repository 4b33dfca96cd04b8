"""Alerts held back by maintenance join the incident opened when the window ends."""

from __future__ import annotations

from datetime import timedelta

from monitor.maintenance import MaintenanceService
from monitor.storage.database import Database
from monitor.storage.maintenance import NewMaintenance
from tests.lifecycle_support import lifecycle, lifecycle_config
from tests.support import FAIL, FakeClock

TE = "trading-engine-check"


async def test_alert_held_back_by_maintenance_is_linked_to_its_incident(
    database: Database, clock: FakeClock
) -> None:
    config = lifecycle_config(incidents={"resolve_after": {"critical": "0s"}})
    h = await lifecycle(database, config, clock)
    svc = MaintenanceService(engine=h.engine, database=database, config=config, clock=clock)
    start = clock.now() + timedelta(minutes=1)
    await svc.schedule(
        NewMaintenance(
            name_ja="m",
            name_en="m",
            body_ja="b",
            body_en="b",
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
            components=("trading-engine",),
        ),
        actor="admin",
    )
    clock.current = start
    await svc.tick(clock.now())
    await h.feed(TE, FAIL, FAIL)
    assert await h.incidents() == []
    clock.current = start + timedelta(hours=1)
    await svc.tick(clock.now())
    [incident] = await h.incidents()
    [alert] = await h.alert_rows()
    assert alert.incident_id == incident.id, "alert held back by maintenance never linked"
