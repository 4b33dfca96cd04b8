"""Builders for the platform metrics tests: a counted store with every kind of document."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from monitor.history_views import HistoryView
from monitor.views import MaintenanceStatus
from statuspage import SnapshotStore
from statuspage.page_requests import PageRequests
from tests.export.support import incident, view
from tests.statuspage.support import window
from tests.support import START

# One path of each document kind the snapshot holds, by kind.
PATHS = {
    "index": "/",
    "incident": "/incidents/3",
    "history": "/history",
    "maintenance": "/maintenance/7",
    "api": "/api/v2/summary.json",
    "feed": "/history.atom",
    "badge": "/components/a/badge.svg",
    "other": "/static/style.css",
}


def counted_store() -> tuple[SnapshotStore, CollectorRegistry]:
    """A published store counting its requests on a fresh registry, and the registry."""
    registry = CollectorRegistry()
    store = SnapshotStore(requests=PageRequests.on(registry))
    done = window(7, MaintenanceStatus.COMPLETED, START)
    store.publish(view(incident(3)), HistoryView(maintenances=(done,)))
    return store, registry


def requests(registry: CollectorRegistry, document: str, code: int) -> float:
    """The value of ``exwatch_page_requests_total{document, code}`` (0 if never counted)."""
    labels = {"document": document, "code": str(code)}
    return registry.get_sample_value("exwatch_page_requests_total", labels) or 0.0
