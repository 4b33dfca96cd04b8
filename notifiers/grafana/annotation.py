"""What an incident's annotation says: its time region, its tags, and its title with a link.

An open incident is a point at its start; once resolved, the annotation is a region from the
start to the resolution. Tags are the configured ones, then ``severity:<severity>`` and one
``component:<id>`` per component, so dashboards can filter annotations by either. Grafana shows
the text as (sanitised) HTML: the title is escaped, the link is an anchor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from monitor.notices import IncidentInfo, Notice

JsonObject = dict[str, Any]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def millis(moment: datetime) -> int:
    """Epoch milliseconds, as Grafana wants times (exact: no float rounding)."""
    return (moment - _EPOCH) // _MILLISECOND


def annotation_tags(incident: IncidentInfo, extra: Sequence[str]) -> list[str]:
    """The configured tags, the severity and the components, each once, in that order."""
    tags = [
        *extra,
        f"severity:{incident.severity}",
        *(f"component:{component.id}" for component in incident.components),
    ]
    return list(dict.fromkeys(tags))


def annotation_text(incident: IncidentInfo) -> str:
    """The incident's title in both languages (once if they agree) and a link to its page."""
    title = incident.title
    words = title.ja if title.ja == title.en or not title.en else f"{title.ja} / {title.en}"
    url = escape(incident.url, quote=True)
    return f'{escape(words.strip() or str(incident.id))}<br><a href="{url}">{url}</a>'


def resolved_at(notice: Notice, incident: IncidentInfo) -> datetime | None:
    """When the incident ended: its resolution, or the resolving notice's time; None if open."""
    if incident.resolved_at is not None:
        return incident.resolved_at
    return notice.at if notice.kind == "incident_resolved" else None


def annotation_fields(notice: Notice, incident: IncidentInfo, extra: Sequence[str]) -> JsonObject:
    """Time (and end, once resolved), tags and text: the incident as the annotation shows it."""
    fields: JsonObject = {"time": millis(incident.started_at)}
    end = resolved_at(notice, incident)
    if end is not None:
        fields["timeEnd"] = max(millis(end), fields["time"])
    fields["tags"] = annotation_tags(incident, extra)
    fields["text"] = annotation_text(incident)
    return fields
