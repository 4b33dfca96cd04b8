"""The Atlassian Statuspage v2 JSON shapes, built from the read model (field names exact)."""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from monitor.domain import IncidentStatus, worst_status
from monitor.views import (
    AffectedComponent,
    ComponentView,
    DayView,
    GroupView,
    IncidentView,
    MaintenanceStatus,
    MaintenanceView,
    StatusView,
    UpdateView,
    UptimeView,
    combined_uptime,
    whole_minutes,
)
from statuspage.i18n import message
from statuspage.indicator import page_indicator
from statuspage.timefmt import iso

RECENT_LIMIT = 50
UPCOMING = (MaintenanceStatus.SCHEDULED,)
ACTIVE = (MaintenanceStatus.IN_PROGRESS,)
CURRENT = UPCOMING + ACTIVE
MAINTENANCE_IMPACT = "maintenance"
POSTMORTEM = "postmortem"  # a resolved incident's status once its postmortem is published
# exwatch's window states in Statuspage's words (a cancelled window is never public).
_MAINTENANCE_STATUS = {
    MaintenanceStatus.SCHEDULED: "scheduled",
    MaintenanceStatus.IN_PROGRESS: "in_progress",
    MaintenanceStatus.COMPLETED: "completed",
}


def summary(view: StatusView, language: str) -> dict[str, Any]:
    """Return ``/api/v2/summary.json``."""
    return {
        "page": page(view),
        "status": status(view, language),
        "components": components(view, language),
        "incidents": [incident(view, i, language) for i in view.incidents if i.is_open],
        "scheduled_maintenances": scheduled_maintenances(view, language, only=CURRENT),
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
    listed = _listed(view, language)
    return {
        "id": str(item.id),
        "name": item.names.get(language) or item.names["en"],
        "status": incident_status(item),
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


def incident_status(item: IncidentView) -> str:
    """Return the incident's status in Statuspage's words: ``postmortem`` once one is published."""
    if item.postmortem is not None and item.status == IncidentStatus.RESOLVED:
        return POSTMORTEM
    return str(item.status)


def scheduled_maintenances(
    view: StatusView, language: str, *, only: Collection[MaintenanceStatus] | None = None
) -> list[dict[str, Any]]:
    """Return maintenance objects: the 50 newest, latest start first; or, with ``only``, every
    window in those states, soonest start first (what is next comes first)."""
    shown = [m for m in view.maintenances if m.is_public]
    if only is None:
        chosen = sorted(shown, key=_start, reverse=True)[:RECENT_LIMIT]
    else:
        chosen = sorted((m for m in shown if m.status in only), key=_start)
    listed = _listed(view, language)
    return [maintenance(view, m, language, listed=listed) for m in chosen]


def maintenance(
    view: StatusView,
    item: MaintenanceView,
    language: str,
    *,
    listed: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return one ``scheduled maintenance`` object: the incident fields plus the window."""
    tz = view.site.time_zone
    listed = _listed(view, language) if listed is None else listed
    completed = item.status == MaintenanceStatus.COMPLETED
    return {
        "id": maintenance_id(item),
        "name": item.names.get(language) or item.names["en"],
        "status": _MAINTENANCE_STATUS[item.status],
        "created_at": iso(item.created_at, tz),
        "updated_at": iso(item.updated_at, tz),
        "monitoring_at": None,
        "resolved_at": iso(item.ended_at, tz) if completed else None,
        "impact": MAINTENANCE_IMPACT,
        "shortlink": f"{view.site.url.rstrip('/')}/#maintenance-{item.id}",
        "started_at": iso(item.started_at or item.scheduled_start, tz),
        "page_id": view.site.id,
        "incident_updates": _maintenance_updates(view, item, language),
        "components": [listed[cid] for cid in item.component_ids if cid in listed],
        "scheduled_for": iso(item.scheduled_start, tz),
        "scheduled_until": iso(item.scheduled_end, tz),
    }


def maintenance_id(item: MaintenanceView) -> str:
    """Return a window's public id: prefixed, so it never equals an incident's."""
    return f"m{item.id}"


def _start(item: MaintenanceView) -> tuple[datetime, int]:
    return (item.scheduled_start, item.id)


def _maintenance_updates(
    view: StatusView, item: MaintenanceView, language: str
) -> list[dict[str, Any]]:
    """Synthesize the window's updates from its life, newest first: scheduled, started, completed."""
    stages: list[tuple[str, datetime, str]] = [
        ("scheduled", item.created_at, item.bodies.get(language) or item.bodies["en"]),
    ]
    if item.started_at is not None:
        stages.append(
            ("in_progress", item.started_at, message("maintenance.started_body", language))
        )
    if item.status == MaintenanceStatus.COMPLETED and item.ended_at is not None:
        stages.append(("completed", item.ended_at, message("maintenance.completed_body", language)))
    tz = view.site.time_zone
    return [
        _update_object(
            update_id=f"{maintenance_id(item)}-{stage}",
            parent_id=maintenance_id(item),
            status=stage,
            body=body,
            created=iso(at, tz),
        )
        for stage, at, body in reversed(stages)
    ]


def _update(view: StatusView, item: UpdateView, language: str) -> dict[str, Any]:
    update = _update_object(
        update_id=str(item.id),
        parent_id=str(item.incident_id),
        status=str(item.status),
        body=item.bodies.get(language) or item.bodies["en"],
        created=iso(item.created_at, view.site.time_zone),
    )
    update["affected_components"] = _affected(view, item.affected_components, language)
    return update


def _update_object(
    *, update_id: str, parent_id: str, status: str, body: str, created: str | None
) -> dict[str, Any]:
    """Return an ``incident_update`` object (created, updated and displayed at the same time)."""
    return {
        "id": update_id,
        "status": status,
        "body": body,
        "incident_id": parent_id,
        "created_at": created,
        "updated_at": created,
        "display_at": created,
        "affected_components": None,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _affected(
    view: StatusView, announced: tuple[AffectedComponent, ...] | None, language: str
) -> list[dict[str, Any]] | None:
    """Return Statuspage's ``{code, name, old_status, new_status}`` for each announced status."""
    if not announced:
        return None
    return [
        {
            "code": entry.id,
            "name": _component_name(view, entry.id, language),
            "old_status": None if entry.old_status is None else str(entry.old_status),
            "new_status": str(entry.status),
        }
        for entry in announced
    ]


def _component_name(view: StatusView, component_id: str, language: str) -> str:
    shown = view.component(component_id)
    if shown is None:
        return component_id
    return shown.names.get(language) or shown.names["en"]


def _listed(view: StatusView, language: str) -> dict[str, dict[str, Any]]:
    """Return the same component objects, positions included, as components.json lists, by id."""
    return {c["id"]: c for c in components(view, language) if not c["group"]}


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


UPTIME_PATH = "/api/v2/exwatch/uptime.json"
UPTIME_DEFINITION = (
    "Days run midnight to midnight in page.time_zone. uptime_percent = (observed - outage) / "
    "observed, where outage is time in partial_outage or major_outage; degraded_performance and "
    "under_maintenance are not downtime. A day without data (before the component existed, or "
    "without probe data or a status change) has worst_status and uptime_percent null."
)


def uptime(view: StatusView, language: str) -> dict[str, Any]:
    """Return ``/api/v2/exwatch/uptime.json``: each component's days (oldest first) and its
    uptime over them, then each group's (its components' observed time together)."""
    listed = [c for c in view.components if c.id in view.uptime]
    return {
        "page": page(view),
        "definition": UPTIME_DEFINITION,
        "components": [_component_uptime(c, view.uptime[c.id], language) for c in listed],
        "groups": [
            {
                "id": group.id,
                "name": group.names.get(language) or group.names["en"],
                "uptime_percent": _percent(
                    combined_uptime(view.uptime[c] for c in group.component_ids if c in view.uptime)
                ),
                "components": list(group.component_ids),
            }
            for group in view.groups
        ],
    }


def _component_uptime(item: ComponentView, history: UptimeView, language: str) -> dict[str, Any]:
    """Return one component's entry: its figures over every day, then each day's."""
    return {
        "id": item.id,
        "name": item.names.get(language) or item.names["en"],
        "group_id": item.group_id,
        "uptime_percent": _percent(history.uptime_percent),
        "observed_minutes": int(history.observed / timedelta(minutes=1)),
        "outage_minutes": whole_minutes(history.outage),
        "days": [_day_uptime(day) for day in history.days],
    }


def _day_uptime(day: DayView) -> dict[str, Any]:
    """Return one day's entry (``worst_status`` and ``uptime_percent`` null without data)."""
    return {
        "date": day.day.isoformat(),
        "worst_status": None if day.worst_status is None else str(day.worst_status),
        "uptime_percent": _percent(day.uptime_percent),
        "outage_minutes": day.outage_minutes,
        "degraded_minutes": whole_minutes(day.degraded),
        "maintenance_minutes": whole_minutes(day.maintenance),
        "incident_ids": [str(ref.id) for ref in day.incidents],
    }


def _percent(value: float | None) -> float | None:
    """Round down to four decimals: an outage never rounds up to 100."""
    return None if value is None else math.floor(value * 10_000) / 10_000
