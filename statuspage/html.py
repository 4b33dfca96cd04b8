"""Renders the status page's HTML from the read model with Jinja2 (once per change, not per request)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from monitor.domain import ComponentStatus, IncidentStatus, worst_status
from monitor.views import ComponentView, GroupView, IncidentView, MaintenanceView, StatusView
from statuspage import i18n
from statuspage.indicator import page_indicator
from statuspage.timefmt import iso, local_text, minutes_between

PAST_INCIDENTS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class GroupSection:
    """A group on the page with its members and its worst status."""

    id: str
    name: str
    status: Any
    components: list[ComponentView]


def build_environment() -> Environment:
    """Return the Jinja2 environment for the page templates."""
    environment = Environment(
        loader=PackageLoader("statuspage", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["status_label"] = i18n.status_label
    environment.globals["severity_label"] = i18n.severity_label
    environment.globals["incident_status_label"] = i18n.incident_status_label
    environment.globals["maintenance_status_label"] = i18n.maintenance_status_label
    return environment


class PageRenderer:
    """Renders the index and incident pages in one language."""

    def __init__(self, environment: Environment, view: StatusView, language: str) -> None:
        self._environment = environment
        self._view = view
        self._language = language

    def index(self) -> str:
        """Return the status page's HTML."""
        incidents = self._view.incidents
        windows = sorted(self._view.maintenances, key=lambda m: (m.scheduled_start, m.id))
        active_windows = [m for m in windows if m.is_active]
        indicator = page_indicator(self._view)
        return self._render(
            "index.html",
            indicator=indicator,
            banner=_banner(indicator, active_windows, self._view),
            active=[i for i in incidents if i.is_open],
            past=[i for i in incidents if not i.is_open][:PAST_INCIDENTS_SHOWN],
            sections=self._sections(),
            maintenance_active=active_windows,
            maintenance_upcoming=[m for m in windows if m.is_upcoming],
        )

    def incident(self, item: IncidentView) -> str:
        """Return one incident's page."""
        return self._render("incident.html", incident=item)

    def _render(self, template: str, **context: Any) -> str:
        language, site = self._language, self._view.site
        return self._environment.get_template(template).render(
            site=site,
            lang=language,
            other_languages=[code for code in site.languages if code != language],
            t=lambda key, **values: i18n.message(key, language, **values),
            name_of=lambda names: names.get(language) or names["en"],
            iso=lambda moment: iso(moment, site.time_zone),
            local=lambda moment: local_text(moment, site.time_zone),
            duration=self._duration,
            affected=self._affected_names,
            until=lambda item: _until_text(item, site.time_zone),
            generated_at=self._view.generated_at,
            **context,
        )

    def _affected_names(self, item: IncidentView | MaintenanceView) -> list[str]:
        shown = [self._view.component(cid) for cid in item.component_ids]
        return [c.names.get(self._language) or c.names["en"] for c in shown if c is not None]

    def _duration(self, item: IncidentView) -> str:
        minutes = minutes_between(item.started_at, item.resolved_at or self._view.generated_at)
        if minutes < 60:
            return i18n.message("duration.minutes", self._language, n=minutes)
        return i18n.message("duration.hours", self._language, h=minutes // 60, m=minutes % 60)

    def _sections(self) -> list[GroupSection]:
        sections = [self._section(group) for group in self._view.groups]
        grouped = {cid for group in self._view.groups for cid in group.component_ids}
        loose = [c for c in self._view.components if c.id not in grouped]
        if loose:
            name = i18n.message("components.other", self._language)
            sections.append(
                GroupSection("other", name, worst_status([c.status for c in loose]), loose)
            )
        return sections

    def _section(self, group: GroupView) -> GroupSection:
        members = [c for cid in group.component_ids if (c := self._view.component(cid)) is not None]
        name = group.names.get(self._language) or group.names["en"]
        return GroupSection(group.id, name, worst_status([c.status for c in members]), members)


def _banner(indicator: str, active_windows: list[MaintenanceView], view: StatusView) -> str:
    """Return the banner to show: the indicator, ``maintenance`` when only maintenance is on,
    or ``monitoring`` when every open incident has recovered and is only being watched.

    The API's indicator stays Statuspage's (highest impact of unresolved incidents); a visitor
    reading "Major Service Outage" over a page of green components would be misled.
    """
    if indicator == "none":
        return "maintenance" if active_windows else indicator
    open_incidents = [i for i in view.incidents if i.is_open]
    recovered = all(i.status == IncidentStatus.MONITORING for i in open_incidents)
    healthy = all(c.status in _HEALTHY for c in view.components)
    return "monitoring" if open_incidents and recovered and healthy else indicator


_HEALTHY = (ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE)


def _until_text(item: MaintenanceView, time_zone: str) -> str:
    """Return a window's end for people: just the time when it ends on the day it starts."""
    zone = ZoneInfo(time_zone)
    start: datetime = item.scheduled_start.astimezone(zone)
    end: datetime = item.scheduled_end.astimezone(zone)
    if start.date() == end.date():
        return end.strftime("%H:%M ") + (end.tzname() or time_zone)
    return local_text(item.scheduled_end, time_zone)
