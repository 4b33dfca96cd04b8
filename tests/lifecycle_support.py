"""A harness for incident lifecycle tests: the engine, the incident clock and a responder."""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy import select

from monitor.config import Config, parse_config
from monitor.incident_clock import IncidentClock
from monitor.responder import Responder
from monitor.storage.database import Database
from monitor.storage.tables import alerts, incident_updates, timeline_events
from tests.support import FakeClock
from tests.test_engine import COMPONENTS, Harness

ESCALATION = {
    "levels": {
        "critical": [
            {"targets": ["sre-primary"], "wait": "5m"},
            {"targets": ["sre-secondary", "sre-lead"], "wait": "10m"},
        ],
        "moderate": [{"targets": ["sre-primary"], "wait": "15m"}],
    }
}


def lifecycle_config(**sections: Any) -> Config:
    """The engine tests' components with one check each, plus the given top-level sections."""
    document: dict[str, Any] = {
        "site": {"name": "Test"},
        "groups": [{"id": g, "names": {"ja": g, "en": g}} for g in ("trading", "funding", "account")],
        "components": [
            {"id": cid, "names": {"ja": cid + "(ja)", "en": cid}, "group": group,
             "impact_class": klass, "depends_on": deps}
            for cid, group, klass, deps in COMPONENTS
        ],
        "checks": [
            {"id": f"{cid}-check", "component": cid, "kind": "http", "url": "http://127.0.0.1:9/",
             "interval": "10s", "timeout": "1s", "failures_to_alert": 2, "successes_to_recover": 2}
            for cid, *_ in COMPONENTS
        ],
        "escalation": ESCALATION,
    }  # fmt: skip
    document.update(sections)
    return parse_config(yaml.safe_dump(document))


class Lifecycle(Harness):
    """The engine harness plus the incident clock and a responder."""

    def __init__(self, database: Database, config: Config, clock: FakeClock) -> None:
        super().__init__(database, config, clock)
        self.incident_clock = IncidentClock(self.engine, config)
        self.responder = Responder(self.engine, config)

    async def tick_after(self, seconds: float) -> None:
        """Advance the clock and run the incident clock once."""
        self.clock.advance(seconds)
        await self.incident_clock.tick(self.clock.now())

    async def events(self, kind: str | None = None) -> list[Any]:
        """Timeline events in order, optionally of one kind."""
        query = select(timeline_events).order_by(timeline_events.c.id)
        if kind is not None:
            query = query.where(timeline_events.c.kind == kind)
        async with self.database.transaction() as s:
            return list((await s.execute(query)).all())

    async def pages(self) -> list[tuple[int, list[str]]]:
        """(level, targets) of every page so far."""
        return [(e.data["level"], e.data["targets"]) for e in await self.events("page")]

    async def update_statuses(self, incident_id: int) -> list[str]:
        """Statuses of an incident's public updates, oldest first."""
        async with self.database.transaction() as s:
            rows = await s.execute(
                select(incident_updates.c.status)
                .where(incident_updates.c.incident_id == incident_id)
                .order_by(incident_updates.c.id)
            )
            return list(rows.scalars())

    async def alert_rows(self) -> list[Any]:
        """Every alert row in order."""
        async with self.database.transaction() as s:
            return list((await s.execute(select(alerts).order_by(alerts.c.id))).all())


async def lifecycle(database: Database, config: Config, clock: FakeClock) -> Lifecycle:
    """Return a started lifecycle harness."""
    h = Lifecycle(database, config, clock)
    await h.engine.start()
    return h
