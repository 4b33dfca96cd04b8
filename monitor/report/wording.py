"""How reports write times, durations, and the names of severities, causes and events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SEVERITY_NAMES = {"minor": "軽微", "moderate": "中程度", "critical": "重大"}
CAUSE_NAMES = {
    "system": "システム障害",
    "security": "セキュリティ",
    "external": "外部要因",
    "maintenance": "メンテナンス",
}
STATUS_NAMES = {
    "investigating": "調査中",
    "identified": "原因特定",
    "monitoring": "経過観察",
    "resolved": "解決済み",
}
EVENT_NAMES = {
    "alert_fired": "Alert fired",
    "alert_recovered": "Alert recovered",
    "alert_flapping": "Alert flapping",
    "component_status_changed": "Component status changed",
    "incident_opened": "Incident opened",
    "component_joined": "Component joined",
    "incident_renamed": "Incident renamed",
    "severity_changed": "Severity changed",
    "update_posted": "Public update posted",
    "incident_recovered": "Recovered",
    "incident_resolved": "Resolved",
    "incident_reopened": "Reopened",
    "acknowledged": "Acknowledged",
    "unacknowledged": "Acknowledgement withdrawn",
    "page": "Paged",
    "reminder": "Update reminder",
    "cause_changed": "Cause changed",
    "component_override_set": "Status override set",
    "component_override_cleared": "Status override cleared",
    "notification_sent": "Notification sent",
    "notification_failed": "Notification failed",
    "postmortem_saved": "Postmortem saved",
    "postmortem_published": "Postmortem published",
}


def local_time(at: datetime, zone: ZoneInfo) -> str:
    """Return ``at`` in ``zone`` with its UTC offset, e.g. "2026-11-21 18:00:20 +09:00"."""
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {utc_offset(local)}"


def iso_time(at: datetime | None, zone: ZoneInfo) -> str | None:
    """Return ``at`` as ISO 8601 in ``zone`` (with its offset), None for None."""
    return None if at is None else at.astimezone(zone).isoformat()


def utc_offset(local: datetime) -> str:
    """Return a local time's offset as "+09:00"."""
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_label(zone: ZoneInfo, at: datetime) -> str:
    """Return the zone's name with its offset at ``at``, e.g. "Asia/Tokyo (UTC+09:00)"."""
    return f"{zone.key} (UTC{utc_offset(at.astimezone(zone))})"


def duration_text(span: timedelta | None) -> str:
    """Return a span as "45 s", "3 min 20 s", "1 h 23 min" or "2 d 4 h 5 min"; "—" for None."""
    if span is None:
        return "—"
    seconds = max(int(span.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days or hours:
        parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    else:
        parts = [(minutes, "min"), (seconds, "s")]
    shown = [f"{value} {unit}" for value, unit in parts if value]
    return " ".join(shown) or "0 s"


def severity_text(severity: str) -> str:
    """Return "critical (重大)" for a known severity, the value itself otherwise."""
    name = SEVERITY_NAMES.get(severity)
    return f"{severity} ({name})" if name else severity


def cause_text(cause: str) -> str:
    """Return "security (セキュリティ) — ddos" for a cause with a detail."""
    category, _, detail = cause.partition("/")
    name = CAUSE_NAMES.get(category)
    text = f"{category} ({name})" if name else category
    return f"{text} — {detail.replace('_', ' ')}" if detail else text


def status_text(status: str) -> str:
    """Return "resolved (解決済み)" for a known incident status."""
    name = STATUS_NAMES.get(status)
    return f"{status} ({name})" if name else status


def event_text(kind: str) -> str:
    """Return an event kind in words; unknown kinds are shown as they are stored."""
    return EVENT_NAMES.get(kind, kind)


def details_text(data: dict[str, Any] | None) -> str:
    """Return an event's data in words: "from → to" first, then "key: value" pairs."""
    if not data:
        return ""
    rest = dict(data)
    parts = []
    if "from" in rest and "to" in rest:
        parts.append(f"{_value(rest.pop('from'))} → {_value(rest.pop('to'))}")
    parts.extend(f"{key}: {_value(value)}" for key, value in rest.items())
    return "; ".join(parts)


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "{" + details_text(value) + "}"
    return "—" if value is None else str(value)
