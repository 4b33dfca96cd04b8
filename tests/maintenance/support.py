"""A running engine with maintenance on a fake clock, and shortcuts to feed it and read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from monitor.app import Services, build_services
from monitor.config import Config
from monitor.maintenance import MaintenanceService
from monitor.storage.database import Database
from monitor.storage.maintenance import MaintenanceRow, NewMaintenance
from monitor.storage.tables import components, incidents, timeline_events
from tests.support import FakeClock
from tests.test_engine import make_config

TOKEN = "maintenance-admin-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@dataclass
class World:
    """The services of one process, its maintenance, and the fake clock they share."""

    database: Database
    config: Config
    clock: FakeClock
    services: Services
    maintenance: MaintenanceService

    async def tick(self) -> None:
        """Run the maintenance clock at the fake now."""
        await self.maintenance.tick(self.clock.now())

    async def move_to(self, at: datetime) -> None:
        """Set the clock to ``at`` and tick."""
        self.clock.current = at
        await self.tick()

    async def feed(self, check_id: str, *results: Any) -> None:
        """Apply results of one check, ten seconds apart."""
        check = next(c for c in self.config.checks if c.id == check_id)
        for result in results:
            self.clock.advance(10)
            await self.services.engine.ingest(check, result)

    async def status(self, component_id: str) -> str:
        """Return a component's public status."""
        async with self.database.transaction() as s:
            return str(
                await s.scalar(select(components.c.status).where(components.c.id == component_id))
            )

    async def incident_count(self) -> int:
        """Return how many incidents exist."""
        async with self.database.transaction() as s:
            return int(await s.scalar(select(func.count()).select_from(incidents)) or 0)

    async def events(self, maintenance_id: int | None = None) -> list[Any]:
        """Return the maintenance events (of one window, if given) in order."""
        query = select(timeline_events).where(timeline_events.c.kind.like("maintenance%"))
        if maintenance_id is not None:
            query = query.where(timeline_events.c.maintenance_id == maintenance_id)
        async with self.database.transaction() as s:
            return list((await s.execute(query.order_by(timeline_events.c.id))).all())

    async def kinds(self, maintenance_id: int | None = None) -> list[str]:
        """Return the kinds of the maintenance events (of one window, if given)."""
        return [e.kind for e in await self.events(maintenance_id)]

    async def window(
        self, *, starts_in: timedelta, lasts: timedelta, components: tuple[str, ...]
    ) -> MaintenanceRow:
        """Schedule a one-off window relative to now, as an admin."""
        start = self.clock.now() + starts_in
        new = NewMaintenance(
            name_ja="定期メンテナンス", name_en="Scheduled maintenance",
            body_ja="本文", body_en="Body", scheduled_start=start, scheduled_end=start + lasts,
            components=components,
        )  # fmt: skip
        return await self.maintenance.schedule(new, actor="admin")

    async def restart(self) -> World:
        """Return a fresh process on the same database (what a restart leaves)."""
        return await start_world(self.database, self.clock, self.config)


async def start_world(database: Database, clock: FakeClock, config: Config | None = None) -> World:
    """Build and start the services, and the maintenance service over them."""
    config = config or make_config()
    services = build_services(
        config, database, clock, metrics_registry=CollectorRegistry(), admin_token=TOKEN
    )
    await services.engine.start()
    return World(database, config, clock, services, services.maintenance)
