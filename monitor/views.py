"""Read models monitor publishes for its consumers (status page, later feeds and notifiers).

They are plain frozen data: consumers render them and never reach back into state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from monitor.domain import ComponentStatus, IncidentStatus, Severity

Localized = dict[str, str]
"""A text in each language of the page: ``{"ja": ..., "en": ...}``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Branding:
    """The page's look and links from the config's ``site`` (every part optional)."""

    logo_url: str | None = None
    brand_color: str | None = None
    """``#rrggbb``: the header stripe and the form buttons."""
    accent_color: str | None = None
    """``#rrggbb``: focus rings."""
    help_url: str | None = None
    x_url: str | None = None


@dataclass(frozen=True, slots=True)
class SiteView:
    """The page's identity."""

    id: str
    name: str
    url: str
    time_zone: str
    languages: tuple[str, ...]
    branding: Branding = Branding()

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
    override_message: Localized | None = None
    """A responder's public message for an overridden status (never the internal reason)."""


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
class AffectedComponent:
    """A component status an update announced; ``old_status`` is None when it was not recorded."""

    id: str
    status: ComponentStatus
    old_status: ComponentStatus | None = None


@dataclass(frozen=True, slots=True)
class UpdateView:
    """One public update of an incident."""

    id: int
    incident_id: int
    status: IncidentStatus
    bodies: Localized
    created_at: datetime
    affected_components: tuple[AffectedComponent, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PostmortemView:
    """A published postmortem: Markdown the page renders sanitised, and when it was published."""

    markdown: str
    published_at: datetime


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
    postmortem: PostmortemView | None = None
    """Shown only once published, and only while the incident is resolved."""

    @property
    def is_open(self) -> bool:
        """True until the incident is resolved."""
        return self.status != IncidentStatus.RESOLVED


class MaintenanceStatus(StrEnum):
    """Where a maintenance window is in its life (the public never sees ``cancelled``)."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceView:
    """A maintenance window with the components it covers."""

    id: int
    names: Localized
    bodies: Localized
    status: MaintenanceStatus
    scheduled_start: datetime
    scheduled_end: datetime
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    updated_at: datetime
    component_ids: tuple[str, ...]

    @property
    def is_active(self) -> bool:
        """True while the window is in progress."""
        return self.status == MaintenanceStatus.IN_PROGRESS

    @property
    def is_upcoming(self) -> bool:
        """True while the window is scheduled and has not started."""
        return self.status == MaintenanceStatus.SCHEDULED

    @property
    def is_public(self) -> bool:
        """False for a cancelled window, which the page never shows."""
        return self.status != MaintenanceStatus.CANCELLED


@dataclass(frozen=True, slots=True)
class IncidentRef:
    """An incident named on a day of a component's history."""

    id: int
    names: Localized


class DayView(NamedTuple):
    """One day (midnight to midnight in the page's time zone) of a component's public status.

    A NamedTuple rather than a frozen dataclass: a page builds 90 per component on every
    snapshot, and a tuple is built about five times faster.

    ``observed`` is the part of the day the component existed, up to now, on a day with data;
    a day without data (before the component existed, or with neither probe data nor a status
    change) has ``worst_status`` None and nothing observed. ``outage`` is the time spent in
    partial or major outage; degraded performance and maintenance are counted apart and are
    not downtime. Uptime is (observed − outage) ÷ observed.
    """

    day: date
    worst_status: ComponentStatus | None
    observed: timedelta = timedelta(0)
    outage: timedelta = timedelta(0)
    degraded: timedelta = timedelta(0)
    maintenance: timedelta = timedelta(0)
    incidents: tuple[IncidentRef, ...] = ()

    @property
    def has_data(self) -> bool:
        """False for a day drawn as "no data"."""
        return self.worst_status is not None

    @property
    def uptime_percent(self) -> float | None:
        """Return the day's uptime in percent, None without data."""
        return uptime_percent(self.observed, self.outage)

    @property
    def outage_minutes(self) -> int:
        """Return the minutes of outage, rounded up (a 10-second outage is not "0 min")."""
        return whole_minutes(self.outage)


@dataclass(frozen=True, slots=True)
class UptimeView:
    """A component's daily history, oldest day first."""

    days: tuple[DayView, ...]

    @property
    def observed(self) -> timedelta:
        """Return the time observed over every day."""
        return sum((d.observed for d in self.days), timedelta(0))

    @property
    def outage(self) -> timedelta:
        """Return the time in outage over every day."""
        return sum((d.outage for d in self.days), timedelta(0))

    @property
    def uptime_percent(self) -> float | None:
        """Return the uptime over every day, None when nothing was observed."""
        return uptime_percent(self.observed, self.outage)


def uptime_percent(observed: timedelta, outage: timedelta) -> float | None:
    """Return (observed − outage) ÷ observed in percent, None when nothing was observed."""
    if observed <= timedelta(0):
        return None
    return max(0.0, min(100.0, 100.0 * (observed - outage) / observed))


def combined_uptime(histories: Iterable[UptimeView]) -> float | None:
    """Return the uptime of several components together: their observed time, less their
    outage time, over their observed time (a group's figure)."""
    chosen = list(histories)
    observed = sum((h.observed for h in chosen), timedelta(0))
    return uptime_percent(observed, sum((h.outage for h in chosen), timedelta(0)))


def whole_minutes(span: timedelta) -> int:
    """Return ``span`` in minutes, rounded up."""
    return math.ceil(span / timedelta(minutes=1))


@dataclass(frozen=True, slots=True)
class StatusView:
    """Everything the public status page shows, as of ``generated_at``."""

    site: SiteView
    generated_at: datetime
    groups: tuple[GroupView, ...]
    components: tuple[ComponentView, ...]
    incidents: tuple[IncidentView, ...] = field(default=())
    maintenances: tuple[MaintenanceView, ...] = field(default=())
    """In progress and scheduled windows plus recent completed ones, newest start first."""
    uptime: Mapping[str, UptimeView] = field(default_factory=dict)
    """Each component's daily history (the last 90 days), by component id."""

    @property
    def updated_at(self) -> datetime:
        """The newest change to anything shown (the page's ``updated_at``)."""
        stamps = [c.updated_at for c in self.components] + [i.updated_at for i in self.incidents]
        stamps += [m.updated_at for m in self.maintenances if m.is_public]
        return max(stamps, default=self.generated_at)

    def component(self, component_id: str) -> ComponentView | None:
        """Return the component with this id, if shown."""
        return next((c for c in self.components if c.id == component_id), None)
