"""The incident, alert and component series follow what the engine and responders do."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from monitor.domain import ComponentStatus
from monitor.incident_metrics import IncidentMetrics
from monitor.storage.database import EVENTS_KEY, Database
from monitor.storage.incidents import get_incident
from monitor.storage.tables import incidents
from tests.metrics.support import break_component, services_on, value
from tests.support import FakeClock

pytestmark = pytest.mark.postgres


async def _started_at(database: Database, incident_id: int) -> float:
    async with database.transaction() as session:
        started = await session.scalar(
            select(incidents.c.started_at).where(incidents.c.id == incident_id)
        )
    assert started is not None
    return float(started.timestamp())


async def test_an_incident_opens_is_acknowledged_and_resolved(
    database: Database, clock: FakeClock
) -> None:
    services = services_on(database, clock)
    await services.engine.start()
    await break_component(services, clock, "trading-engine")
    await services.state_metrics.refresh()
    assert value(services, "exwatch_incidents_open", severity="critical") == 1
    assert value(services, "exwatch_incidents_open", severity="minor") == 0
    assert value(services, "exwatch_incidents_opened_total", severity="critical") == 1
    assert value(services, "exwatch_incident_first_update_seconds_count", severity="critical") == 1
    firing = {"component": "trading-engine", "severity": "critical"}
    assert value(services, "exwatch_alerts_firing", **firing) == 1

    started = await _started_at(database, 1)
    clock.advance(90)
    await services.responder.acknowledge(1, clock.now(), actor="alice")
    ack = value(services, "exwatch_incident_acknowledge_seconds_sum", severity="critical")
    assert ack == pytest.approx(clock.now().timestamp() - started)
    assert value(services, "exwatch_incident_acknowledge_seconds_count", severity="critical") == 1

    clock.advance(300)
    await services.responder.unacknowledge(1, clock.now(), actor="alice")
    await services.responder.acknowledge(1, clock.now(), actor="bob")
    # Only the first acknowledgement is the MTTA.
    assert value(services, "exwatch_incident_acknowledge_seconds_count", severity="critical") == 1

    await services.responder.resolve(1, clock.now(), actor="alice", force=True)
    await services.state_metrics.refresh()
    assert value(services, "exwatch_incidents_resolved_total", severity="critical") == 1
    resolve = value(services, "exwatch_incident_resolve_seconds_sum", severity="critical")
    assert resolve == pytest.approx(clock.now().timestamp() - started)
    assert value(services, "exwatch_incidents_open", severity="critical") == 0
    # The second public update (resolved) is not a first update.
    assert value(services, "exwatch_incident_first_update_seconds_count", severity="critical") == 1


async def test_component_status_and_one_hot_state(database: Database, clock: FakeClock) -> None:
    services = services_on(database, clock)
    await services.engine.start()
    await services.state_metrics.refresh()
    assert value(services, "exwatch_component_status", component="login") == 0
    await break_component(services, clock, "login")
    await services.state_metrics.refresh()
    assert value(services, "exwatch_component_status", component="login") == 4
    states = {
        str(s): value(services, "exwatch_component_state", component="login", state=str(s))
        for s in ComponentStatus
    }
    assert states == {
        "operational": 0,
        "under_maintenance": 0,
        "degraded_performance": 0,
        "partial_outage": 0,
        "major_outage": 1,
    }
    assert value(services, "exwatch_component_status", component="website") == 0
    # lifecycle_config puts login in the "account" group: the group gauge maps it there.
    assert value(services, "exwatch_component_group", component="login", group="account") == 1


async def test_the_gauges_are_right_after_a_restart(database: Database, clock: FakeClock) -> None:
    before = services_on(database, clock)
    await before.engine.start()
    await break_component(before, clock, "trading-engine")

    after = services_on(database, clock)  # a new process: new registry, same database
    await after.engine.start()
    await after.state_metrics.refresh()
    assert value(after, "exwatch_incidents_open", severity="critical") == 1
    assert value(after, "exwatch_component_status", component="trading-engine") == 4
    firing = {"component": "trading-engine", "severity": "critical"}
    assert value(after, "exwatch_alerts_firing", **firing) == 1


async def test_only_committed_changes_move_the_series(database: Database, clock: FakeClock) -> None:
    services = services_on(database, clock)
    await services.engine.start()
    await break_component(services, clock, "trading-engine")
    registry = CollectorRegistry()
    metrics = IncidentMetrics(registry)
    clock.advance(60)

    class AbortError(Exception):
        pass

    with pytest.raises(AbortError):
        async with database.transaction() as session:
            incident = await get_incident(session=session, incident_id=1)
            assert incident is not None
            await services.engine.incidents.resolve(session, incident, clock.now(), reason="t")
            await metrics.plan(session, session.info[EVENTS_KEY])
            raise AbortError  # the planner saw the events; the commit never came
    labels = {"severity": "critical"}
    assert registry.get_sample_value("exwatch_incidents_resolved_total", labels) is None

    async with database.transaction() as session:
        incident = await get_incident(session=session, incident_id=1)
        assert incident is not None
        await services.engine.incidents.resolve(session, incident, clock.now(), reason="t")
        await metrics.plan(session, session.info[EVENTS_KEY])
    assert registry.get_sample_value("exwatch_incidents_resolved_total", labels) == 1
