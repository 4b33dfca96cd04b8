"""What the console's incident page shows: the incident, its timeline and its forms' choices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.config import Config
from monitor.console.gate import RefusedError
from monitor.console.postmortem_panel import PostmortemPanel
from monitor.console.preview import UpdatePreview
from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.report.wording import details_text, event_text
from monitor.storage.database import Database
from monitor.storage.incident_reads import incident_detail
from monitor.storage.timeline_reads import incident_events


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """One event of the timeline in words."""

    at: Any
    what: str
    actor: str
    detail: str


@dataclass(frozen=True, slots=True)
class Draft:
    """The update form's values, kept when a preview or a refusal shows the page again."""

    status: str = ""
    body_ja: str = ""
    body_en: str = ""
    components: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IncidentPage:
    """Everything the incident page renders."""

    incident: dict[str, Any]
    timeline: list[TimelineLine]
    component_names: dict[str, str]
    draft: Draft
    preview: UpdatePreview | None = None
    postmortem: PostmortemPanel | None = None

    @property
    def open(self) -> bool:
        """Whether the incident is still open (the forms that change it are shown)."""
        return bool(self.incident["status"] != IncidentStatus.RESOLVED)


STATUSES = [s.value for s in IncidentStatus]
SEVERITIES = [s.value for s in Severity]
COMPONENT_STATUSES = [s.value for s in ComponentStatus]


async def load_incident(
    database: Database, incident_id: int
) -> tuple[dict[str, Any], list[TimelineLine]]:
    """The incident in detail and its timeline in words; 404 when there is no such incident."""
    async with database.transaction() as session:
        detail = await incident_detail(session=session, incident_id=incident_id)
        if detail is None:
            raise RefusedError(404, f"there is no incident #{incident_id}")
        events = await incident_events(session=session, incident_id=incident_id)
    lines = [
        TimelineLine(e.at, event_text(e.kind), e.actor, _detail(e.reason, e.data))
        for e in reversed(events)
    ]
    return detail, lines


def component_names(config: Config) -> dict[str, str]:
    """Every component's English name by id, in the config's order."""
    return {c.id: c.names.en for c in config.components}


def _detail(reason: str | None, data: dict[str, Any] | None) -> str:
    words = details_text(data)
    return " — ".join(part for part in (reason, words) if part)
