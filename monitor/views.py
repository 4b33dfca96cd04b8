"""Read models monitor publishes for its consumers (status page, later feeds and notifiers).

They are plain frozen data: consumers render them and never reach back into state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.domain import ComponentStatus, IncidentStatus, Severity

Localized = dict[str, str]
"""A text in each language of the page: ``{"ja": ..., "en": ...}``."""


@dataclass(frozen=True, slots=True)
class SiteView:
    """The page's identity."""

    id: str
    name: str
    url: str
    time_zone: str
    languages: tuple[str, ...]

    @property
    def default_language(self) -> str:
        """The language used when the visitor states none we have."""
        return self.languages[0]


@dataclass(frozen=True, slots=True)
class ComponentView:
    """A component as the public sees it."""

    id: str
    names: Localized
    descriptions: Localized | None
    group_id: str | None
    status: ComponentStatus
    position: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class GroupView:
    """A group of components, shown with its worst child's status."""

    id: str
    names: Localized
    position: int
    created_at: datetime
    updated_at: datetime
    component_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UpdateView:
    """One public update of an incident."""

    id: int
    incident_id: int
    status: IncidentStatus
    bodies: Localized
    created_at: datetime
    affected_components: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident with its updates (newest first) and affected components."""

    id: int
    names: Localized
    status: IncidentStatus
    severity: Severity
    severity_reason: str
    started_at: datetime
    created_at: datetime
    updated_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    component_ids: tuple[str, ...]
    updates: tuple[UpdateView, ...] = ()

    @property
    def is_open(self) -> bool:
        """True until the incident is resolved."""
        return self.status != IncidentStatus.RESOLVED


@dataclass(frozen=True, slots=True)
class StatusView:
    """Everything the public status page shows, as of ``generated_at``."""

    site: SiteView
    generated_at: datetime
    groups: tuple[GroupView, ...]
    components: tuple[ComponentView, ...]
    incidents: tuple[IncidentView, ...] = field(default=())

    @property
    def updated_at(self) -> datetime:
        """The newest change to anything shown (the page's ``updated_at``)."""
        stamps = [c.updated_at for c in self.components] + [i.updated_at for i in self.incidents]
        return max(stamps, default=self.generated_at)

    def component(self, component_id: str) -> ComponentView | None:
        """Return the component with this id, if shown."""
        return next((c for c in self.components if c.id == component_id), None)
