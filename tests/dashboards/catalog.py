"""exwatch's metric catalog: the series names a freshly built app exposes, plus the rest.

The families come from the registry of services built as the app builds them; each family
type maps to the names Prometheus sees (a counter ``x`` is scraped as ``x_total``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from monitor.app import build_services, create_app
from monitor.storage.database import Database
from tests.dashboards.support import recorded_names
from tests.lifecycle_support import lifecycle_config
from tests.metrics.catalog import role_registry
from tests.support import FakeClock

SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
}
# prometheus_client's ProcessCollector (Linux), and what Prometheus adds to every target.
PROCESS = {
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_start_time_seconds",
    "process_open_fds",
    "process_max_fds",
}
SCRAPE = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}


def series_names(registry: CollectorRegistry) -> set[str]:
    """The names Prometheus sees for each metric family of ``registry``."""
    names: set[str] = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


async def app_series_names(database: Database) -> set[str]:
    """The series names of a freshly built app, once its lifespan has started."""
    registry = CollectorRegistry()
    services = build_services(
        lifecycle_config(), database, FakeClock(), metrics_registry=registry, channels={}
    )
    app = create_app(services, run_checks=False)
    async with app.router.lifespan_context(app):
        return series_names(registry) | series_names(role_registry(database))


async def catalog(database: Database) -> set[str]:
    """Every name an expression may use: the app's, process_*, up, and the recorded rules."""
    return await app_series_names(database) | PROCESS | SCRAPE | recorded_names()
