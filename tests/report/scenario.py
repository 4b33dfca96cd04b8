"""Incidents to report on: one made by the real engine plus a responder's actions, one by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config import Config
from monitor.config.policies import IncidentPolicy
from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.storage.database import Database
from monitor.storage.incidents import (
    NewIncident,
    add_incident_component,
    add_update,
    open_incident,
    set_severity,
    update_incident,
)
from monitor.storage.timeline import append_event
from tests.support import FAIL, OK, FakeClock
from tests.test_engine import Harness, make_config

OPENING_REASON = "moderate: market-data is major_outage (impact class information)"
RAISED_REASON = "critical: 2 components are major_outage (market-data, charts)"
HUMAN_REASON = "moderate: trading itself | unaffected\nonly the display (set by alice)"
HUMAN_UPDATE = {
    "en": "We found the cause: a <b>stuck</b> feed | restarting it.\n# not a heading",
    "ja": "原因を特定しました：相場配信の停止｜再起動しています。\n- リストではありません",
}


def report_config() -> Config:
    """The engine tests' exchange; incidents resolve as soon as their checks recover."""
    config = make_config(major_outage_count=2)
    resolve_now = {"minor": 0.0, "moderate": 0.0, "critical": 0.0}
    return config.model_copy(update={"incidents": IncidentPolicy(resolve_after=resolve_now)})


@dataclass(frozen=True, slots=True)
class EngineIncident:
    """What the engine scenario did, and when."""

    incident_id: int
    detected_at: datetime
    acknowledged_at: datetime
    resolved_at: datetime


async def engine_incident(database: Database, clock: FakeClock) -> EngineIncident:
    """Market data fails (moderate), charts follow (critical), alice lowers it, bob acks; recovery."""
    harness = Harness(database, report_config(), clock)
    await harness.engine.start()
    await harness.feed("market-data-check", FAIL, FAIL)
    detected = clock.now()
    await harness.feed("charts-check", FAIL, FAIL)
    [incident] = await harness.incidents()
    clock.advance(120)
    acknowledged = await human_actions(database, incident.id, clock)
    await harness.feed("market-data-check", OK, OK)
    await harness.feed("charts-check", OK, OK)
    [incident] = await harness.incidents()
    assert incident.status == IncidentStatus.RESOLVED, incident
    return EngineIncident(incident.id, detected, acknowledged, incident.resolved_at)


async def human_actions(database: Database, incident_id: int, clock: FakeClock) -> datetime:
    """Bob acknowledges, alice lowers the severity and posts an update (as the admin API writes)."""
    acked = clock.now()
    async with database.transaction() as session:
        await update_incident(
            session=session, incident_id=incident_id, acknowledged_at=acked,
            acknowledged_by="bob", first_acknowledged_at=acked,
        )  # fmt: skip
        await append_event(
            session=session, at=acked, kind="acknowledged", incident_id=incident_id, actor="bob"
        )
    at = clock.advance(60)
    async with database.transaction() as session:
        await set_severity(
            session=session, incident_id=incident_id, severity=Severity.MODERATE,
            reason=HUMAN_REASON, at=at,
        )  # fmt: skip
        await append_event(
            session=session, at=at, kind="severity_changed", incident_id=incident_id,
            reason=HUMAN_REASON, actor="alice", data={"from": "critical", "to": "moderate"},
        )  # fmt: skip
        update_id = await add_update(
            session=session, incident_id=incident_id, status=IncidentStatus.IDENTIFIED,
            body_ja=HUMAN_UPDATE["ja"], body_en=HUMAN_UPDATE["en"], at=at,
        )  # fmt: skip
        await append_event(
            session=session, at=at, kind="update_posted", incident_id=incident_id, actor="alice",
            data={"update_id": update_id, "status": "identified"},
        )  # fmt: skip
    return acked


MANUAL_REPORT: dict[str, str | None] = {
    "description": "Withdrawals of BTC | stuck since 09:00",
    "impact_scope": "BTC withdrawals only; about 120 customers",
    "reproduction": "1. Request a withdrawal\n2. It stays pending",
    "reporter": "support desk (佐藤)",
    "contact": "support@example.com",
}


async def manual_incident(database: Database, clock: FakeClock) -> int:
    """A responder opens an incident by hand with the report fields; it is still open."""
    await Harness(database, report_config(), clock).engine.start()  # the component catalog
    at = clock.now()
    new = NewIncident(
        "BTC出金の遅延", "BTC withdrawals delayed", Severity.MODERATE,
        "moderate: set by the responder who opened it", started_at=at - timedelta(minutes=30),
        origin="manual", cause="external/market_volatility", report=MANUAL_REPORT,
    )  # fmt: skip
    async with database.transaction() as session:
        incident = await open_incident(session=session, new=new, at=at)
        await append_event(
            session=session, at=at, kind="incident_opened", incident_id=incident.id,
            reason=new.severity_reason, actor="carol", data={"severity": "moderate"},
        )  # fmt: skip
        await add_incident_component(
            session=session, incident_id=incident.id, component_id="btc-withdrawals",
            status=ComponentStatus.PARTIAL_OUTAGE, at=at,
        )  # fmt: skip
        await append_event(
            session=session, at=at, kind="a_kind_from_the_future", incident_id=incident.id,
            actor="carol", data={"nested": {"x": [1, 2]}},
        )  # fmt: skip
    return incident.id
