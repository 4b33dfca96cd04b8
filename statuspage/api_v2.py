"""The Atlassian Statuspage v2 JSON shapes, built from the read model (field names exact)."""

from __future__ import annotations

from typing import Any

from monitor.domain import worst_status
from monitor.views import ComponentView, GroupView, IncidentView, StatusView, UpdateView
from statuspage.i18n import message
from statuspage.indicator import page_indicator
from statuspage.timefmt import iso

RECENT_LIMIT = 50


def summary(view: StatusView, language: str) -> dict[str, Any]:
    """Return ``/api/v2/summary.json``."""
    return {
        "page": page(view),
        "status": status(view, language),
        "components": components(view, language),
        "incidents": [incident(view, i, language) for i in view.incidents if i.is_open],
        "scheduled_maintenances": [],  # maintenance arrives with issue #4
    }


def page(view: StatusView) -> dict[str, Any]:
    """Return the ``page`` object."""
    return {
        "id": view.site.id,
        "name": view.site.name,
        "url": view.site.url,
        "time_zone": view.site.time_zone,
        "updated_at": iso(view.updated_at, view.site.time_zone),
    }


def status(view: StatusView, language: str) -> dict[str, str]:
    """Return the ``status`` object: the page indicator and its description in ``language``."""
    indicator = page_indicator(view)
    return {"indicator": indicator, "description": message(f"banner.{indicator}", language)}


def components(view: StatusView, language: str) -> list[dict[str, Any]]:
    """Return every group (``group: true``) followed by its components, then ungrouped ones."""
    items: list[dict[str, Any]] = []
    for group in view.groups:
        items.append(_group(view, group, language, position=len(items) + 1))
        for component_id in group.component_ids:
            member = view.component(component_id)
            if member is not None:
                items.append(_component(view, member, language, position=len(items) + 1))
    for member in view.components:
        if member.group_id is None or not any(g.id == member.group_id for g in view.groups):
            items.append(_component(view, member, language, position=len(items) + 1))
    return items


def incidents(
    view: StatusView, language: str, *, unresolved_only: bool = False
) -> list[dict[str, Any]]:
    """Return the 50 newest incidents (or only the unresolved ones)."""
    chosen = [i for i in view.incidents if i.is_open or not unresolved_only]
    return [incident(view, i, language) for i in chosen[:RECENT_LIMIT]]


def incident(view: StatusView, item: IncidentView, language: str) -> dict[str, Any]:
    """Return one ``incident`` object with its updates, newest first."""
    tz = view.site.time_zone
    # The same objects, positions included, as components.json lists.
    listed = {c["id"]: c for c in components(view, language) if not c["group"]}
    return {
        "id": str(item.id),
        "name": item.names.get(language) or item.names["en"],
        "status": str(item.status),
        "created_at": iso(item.created_at, tz),
        "updated_at": iso(item.updated_at, tz),
        "monitoring_at": iso(item.monitoring_at, tz),
        "resolved_at": iso(item.resolved_at, tz),
        "impact": item.severity.impact,
        "shortlink": f"{view.site.url.rstrip('/')}/incidents/{item.id}",
        "started_at": iso(item.started_at, tz),
        "page_id": view.site.id,
        "incident_updates": [_update(view, u, language) for u in item.updates],
        "components": [listed[cid] for cid in item.component_ids if cid in listed],
    }


def _update(view: StatusView, item: UpdateView, language: str) -> dict[str, Any]:
    tz = view.site.time_zone
    created = iso(item.created_at, tz)
    return {
        "id": str(item.id),
        "status": str(item.status),
        "body": item.bodies.get(language) or item.bodies["en"],
        "incident_id": str(item.incident_id),
        "created_at": created,
        "updated_at": created,
        "display_at": created,
        "affected_components": item.affected_components,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _component(
    view: StatusView, item: ComponentView, language: str, position: int
) -> dict[str, Any]:
    tz = view.site.time_zone
    return {
        "id": item.id,
        "name": item.names.get(language) or item.names["en"],
        "status": str(item.status),
        "created_at": iso(item.created_at, tz),
        "updated_at": iso(item.updated_at, tz),
        "position": position,
        "description": (item.descriptions or {}).get(language),
        "showcase": True,
        "start_date": None,
        "group_id": item.group_id,
        "page_id": view.site.id,
        "group": False,
        "only_show_if_degraded": False,
    }


def _group(view: StatusView, item: GroupView, language: str, position: int) -> dict[str, Any]:
    tz = view.site.time_zone
    members = [c for cid in item.component_ids if (c := view.component(cid)) is not None]
    return {
        "id": item.id,
        "name": item.names.get(language) or item.names["en"],
        "status": str(worst_status([c.status for c in members])),
        "created_at": iso(item.created_at, tz),
        "updated_at": iso(max([item.updated_at, *(c.updated_at for c in members)]), tz),
        "position": position,
        "description": None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": view.site.id,
        "group": True,
        "only_show_if_degraded": False,
        "components": list(item.component_ids),
    }
