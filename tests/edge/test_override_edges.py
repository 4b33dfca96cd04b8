"""Edge cases of responder overrides and resolves found in review."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.responder import ActionRefusedError, ManualIncident
from monitor.storage.database import Database
from monitor.storage.tables import components
from tests.lifecycle_support import Lifecycle, lifecycle, lifecycle_config
from tests.support import FAIL, OK, FakeClock

TE = "trading-engine-check"


@pytest.fixture
async def h(database: Database, clock: FakeClock) -> Lifecycle:
    return await lifecycle(database, lifecycle_config(), clock)


async def override_of(h: Lifecycle, cid: str):
    async with h.database.transaction() as s:
        return (
            await s.execute(
                select(
                    components.c.override_status,
                    components.c.override_message_en,
                    components.c.override_reason,
                ).where(components.c.id == cid)
            )
        ).one()


async def test_under_maintenance_update_left_after_auto_resolve(h: Lifecycle) -> None:
    await h.feed("api-check", FAIL, FAIL)
    [incident] = await h.incidents()
    await h.responder.post(
        incident.id,
        IncidentStatus.IDENTIFIED,
        {"ja": "緊急メンテ", "en": "emergency maintenance"},
        h.clock.now(),
        actor="alice",
        components={"api": ComponentStatus.UNDER_MAINTENANCE},
    )
    await h.feed("api-check", OK, OK)
    await h.tick_after(3600)
    [incident] = await h.incidents()
    assert incident.status == IncidentStatus.RESOLVED
    assert await h.status("api") == ComponentStatus.OPERATIONAL, "override outlives its incident"


async def test_incident_resolve_keeps_a_deliberate_halt(h: Lifecycle) -> None:
    halt = {"ja": "取引停止", "en": "Trading is halted"}
    await h.responder.override(
        "btc-trading",
        ComponentStatus.MAJOR_OUTAGE,
        h.clock.now(),
        actor="alice",
        reason="deliberate halt",
        message=halt,
    )
    report = ManualIncident(
        "x", "x", "orders stuck", h.clock.now(), {"btc-trading": ComponentStatus.MAJOR_OUTAGE}
    )
    iid = await h.responder.open(report, h.clock.now(), actor="bob")
    await h.responder.resolve(iid, h.clock.now(), actor="bob")
    row = await override_of(h, "btc-trading")
    assert row.override_status == "major_outage", f"halt cleared by resolving #{iid}: {row}"


async def test_human_lowered_severity_not_raised_by_cause(h: Lifecycle) -> None:
    await h.feed(TE, FAIL, FAIL)
    [incident] = await h.incidents()
    await h.responder.change_severity(
        incident.id, Severity.MINOR, "test market", h.clock.now(), actor="bob"
    )
    await h.responder.set_cause(incident.id, "system/database", h.clock.now(), actor="bob")
    assert (await h.incidents())[0].severity == Severity.MINOR


async def test_a_human_resolve_while_alerts_fire_needs_force(h: Lifecycle) -> None:
    await h.feed(TE, FAIL, FAIL)
    [incident] = await h.incidents()
    with pytest.raises(ActionRefusedError) as refused:
        await h.responder.resolve(incident.id, h.clock.now(), actor="alice")
    assert refused.value.status == 409
    assert "trading-engine-check" in refused.value.message
    await h.responder.resolve(incident.id, h.clock.now(), actor="alice", force=True)
    assert (await h.incidents())[0].status == IncidentStatus.RESOLVED
