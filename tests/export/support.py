"""Builders for the serving and export tests: a read model by hand, a published store, an app."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.views import ComponentView, GroupView, IncidentView, SiteView, StatusView, UpdateView
from statuspage import SnapshotStore
from statuspage.routes import mount
from tests.support import START

SITE = SiteView("demo", "Demo", "https://status.example", "Asia/Tokyo", ("ja", "en"))


def component(cid: str, status: ComponentStatus = ComponentStatus.OPERATIONAL) -> ComponentView:
    """A component of group ``g``."""
    return ComponentView(cid, {"ja": cid + "-ja", "en": cid}, None, "g", status, 0, START, START)


def incident(number: int, title: str = "Outage") -> IncidentView:
    """An open critical incident on ``a`` with one update."""
    update = UpdateView(number * 10, number, IncidentStatus.INVESTIGATING,
                        {"ja": "調査中です", "en": "Investigating"}, START)  # fmt: skip
    return IncidentView(
        number, {"ja": "障害", "en": title}, IncidentStatus.INVESTIGATING, Severity.CRITICAL,
        "why", START, START, START, None, None, ("a",), (update,),
    )  # fmt: skip


def view(*incidents: IncidentView, minutes: int = 0) -> StatusView:
    """A page with components ``a`` and ``b`` in group ``g``, ``minutes`` after START."""
    components = (component("a", ComponentStatus.MAJOR_OUTAGE if incidents else ComponentStatus.OPERATIONAL),
                  component("b"))  # fmt: skip
    group = GroupView("g", {"ja": "グループ", "en": "Group"}, 0, START, START, ("a", "b"))
    return StatusView(SITE, START + timedelta(minutes=minutes), (group,), components, incidents)


def published(*incidents: IncidentView) -> SnapshotStore:
    """A store with one snapshot of ``view(*incidents)``."""
    store = SnapshotStore()
    store.publish(view(*incidents))
    return store


def app_serving(store: SnapshotStore) -> FastAPI:
    """A FastAPI app with the public page mounted as ``create_app`` mounts it."""
    application = FastAPI()
    mount(application, store)

    @application.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": store.ready}

    return application
