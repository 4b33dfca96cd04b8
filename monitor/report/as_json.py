"""The JSON export: the incident, its components, alerts, updates, severity history and timeline."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.report.facts import ComponentImpact, IncidentReport, Milestones
from monitor.storage.timeline_reads import EventRow

FORMAT_NAME = "exwatch.incident-report/1"


def render_json(report: IncidentReport, *, zone: ZoneInfo) -> str:
    """Return the report as an indented JSON document, times ISO 8601 in ``zone``."""
    document = {
        "format": FORMAT_NAME,
        "generated_at": plain(report.generated_at, zone),
        "time_zone": zone.key,
        "incident": plain(report.incident, zone),
        "summary": _summary(report.milestones, zone),
        "components": [_component(c, zone) for c in report.components],
        "alerts": plain(list(report.alerts), zone),
        "updates": plain(list(report.updates), zone),
        "severity_history": plain(list(report.severity_history), zone),
        "timeline": [event_document(e, zone) for e in report.timeline],
        "notifications": plain(list(report.notifications), zone),
        "postmortem": plain(report.postmortem, zone),  # null when none was written
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def event_document(event: EventRow, zone: ZoneInfo) -> dict[str, Any]:
    """Return one timeline event as JSON-ready values (the admin API's shape too)."""
    document: dict[str, Any] = plain(event, zone)
    return document


def plain(value: Any, zone: ZoneInfo) -> Any:
    """Return ``value`` with dataclasses as dicts and datetimes as ISO 8601 text in ``zone``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), zone) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, list | tuple):
        return [plain(item, zone) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item, zone) for key, item in value.items()}
    return value


def _summary(facts: Milestones, zone: ZoneInfo) -> dict[str, Any]:
    summary: dict[str, Any] = plain(facts, zone)
    summary["mtta_seconds"] = plain(facts.mtta, zone)
    summary["mttr_seconds"] = plain(facts.mttr, zone)
    return summary


def _component(impact: ComponentImpact, zone: ZoneInfo) -> dict[str, Any]:
    document: dict[str, Any] = plain(impact.component, zone)
    document["affected_from"] = plain(impact.affected_from, zone)
    document["recovered_at"] = plain(impact.recovered_at, zone)
    document["duration_seconds"] = plain(impact.duration, zone)
    return document
