"""The variables one language's section of a mail is rendered with, all plain strings.

Times are shown in the site's time zone first (JST for the default Asia/Tokyo) with UTC beside
them, so a reader abroad and a reader in Tokyo see the same instant unambiguously.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.notices import ComponentRef, IncidentInfo, MaintenanceInfo, Notice
from notifiers.channel import Delivery
from notifiers.email.labels import labels, word

EMPTY: dict[str, Any] = dict.fromkeys(
    ("status", "severity", "previous_severity", "severity_reason", "started", "resolved",
     "acknowledged_by", "level", "window_start", "window_end"),
    "",
) | {"components": []}  # fmt: skip
"""What a template may test for that a notice of another kind does not have."""


def section_context(delivery: Delivery, language: str, zone: ZoneInfo) -> dict[str, Any]:
    """Return the template variables for ``delivery`` in ``language``."""
    notice = delivery.notice
    links = delivery.links
    return {
        **EMPTY,
        "language": language,
        "kind": notice.kind,
        "t": labels(language),
        "site_name": notice.site_name,
        "site_url": notice.site_url,
        "body": notice.body.get(language),
        "at": when(notice.at, zone),
        "ack_url": links.ack_url,
        "confirm_url": links.confirm_url,
        "manage_url": links.manage_url,
        "unsubscribe_url": links.unsubscribe_url,
        "expires": _expires(notice, zone),
        **_subject_context(notice, language, zone),
    }


def _subject_context(notice: Notice, language: str, zone: ZoneInfo) -> dict[str, Any]:
    if notice.incident is not None:
        return _incident_context(notice, notice.incident, language, zone)
    if notice.maintenance is not None:
        return _maintenance_context(notice.maintenance, language, zone)
    return {"title": notice.site_name, "url": notice.site_url}


def _incident_context(
    notice: Notice, incident: IncidentInfo, language: str, zone: ZoneInfo
) -> dict[str, Any]:
    return {
        "title": incident.title.get(language),
        "status": word(notice.update_status or incident.status, language),
        "severity": word(incident.severity, language),
        "previous_severity": word(_str(notice.data.get("from")), language),
        "severity_reason": incident.severity_reason,
        "components": _names(incident.components, language),
        "started": when(incident.started_at, zone),
        "resolved": when(incident.resolved_at, zone),
        "acknowledged_by": incident.acknowledged_by or "",
        "level": _str(notice.data.get("level")) or "",
        "url": incident.url,
    }


def _maintenance_context(
    maintenance: MaintenanceInfo, language: str, zone: ZoneInfo
) -> dict[str, Any]:
    return {
        "title": maintenance.title.get(language),
        "status": word(maintenance.status, language),
        "components": _names(maintenance.components, language),
        "window_start": when(maintenance.starts_at, zone),
        "window_end": when(maintenance.ends_at, zone),
        "url": maintenance.url,
    }


def when(at: datetime | None, zone: ZoneInfo) -> str:
    """Return ``at`` as "2024-05-01 12:04 JST (2024-05-01T03:04:00Z)"; empty for None."""
    if at is None:
        return ""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    local = aware.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    utc = aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{local} ({utc})"


def _expires(notice: Notice, zone: ZoneInfo) -> str:
    value = notice.data.get("expires_at")
    if not isinstance(value, str):
        return ""
    try:
        return when(datetime.fromisoformat(value), zone)
    except ValueError:
        return value


def _names(components: tuple[ComponentRef, ...], language: str) -> list[str]:
    return [component.names.get(language) for component in components]


def _str(value: str | int | None) -> str | None:
    return None if value is None else str(value)
