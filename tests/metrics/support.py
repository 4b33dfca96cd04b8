"""Shared by the metrics tests: the app's services on a database and a failing component."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from monitor.app import Services, build_services
from monitor.storage.database import Database
from tests.lifecycle_support import lifecycle_config
from tests.support import FAIL, FakeClock


def services_on(database: Database, clock: FakeClock) -> Services:
    """The app's services for the lifecycle test config, on a registry of their own."""
    return build_services(
        lifecycle_config(), database, clock, metrics_registry=CollectorRegistry(), channels={}
    )


async def break_component(services: Services, clock: FakeClock, component_id: str) -> None:
    """Fail the component's check until its alert fires (the config fails into major_outage)."""
    check = next(c for c in services.config.checks if c.component == component_id)
    for _ in range(check.failures_to_alert):
        clock.advance(10)
        await services.engine.ingest(check, FAIL)


def value(services: Services, name: str, **labels: str) -> float | None:
    """One sample of the services' registry."""
    return services.metrics_registry.get_sample_value(name, labels)
