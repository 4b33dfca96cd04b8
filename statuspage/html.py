"""Renders the status page's HTML from the read model with Jinja2 (once per change, not per request)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from monitor.domain import ComponentStatus, IncidentStatus, worst_status
from monitor.postmortems.render import render_postmortem
from monitor.views import (
    Branding,
    ComponentView,
    DayView,
    GroupView,
    IncidentView,
    MaintenanceView,
    StatusView,
    UptimeView,
    combined_uptime,
)
from statuspage import i18n
from statuspage.indicator import page_indicator
from statuspage.timefmt import iso, local_text, minutes_between

PAST_INCIDENTS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class GroupSection:
    """A group on the page with its members, its worst status and its uptime in words."""

    id: str
    name: str
    status: Any
    components: list[ComponentView]
    uptime: str | None = None


@dataclass(frozen=True, slots=True)
class BarIncident:
    """An incident listed under a component's bar: the first shown day it touched."""

    day: date
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Bar:
    """A component's uptime bar, ready to print: one cell per day, oldest first."""

    cells: Markup
    days: int
    percent: str
    summary: str
    incidents: tuple[BarIncident, ...]


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
    environment.globals["brand_css"] = brand_css
    environment.globals["postmortem_html"] = render_postmortem  # sanitised: raw HTML off
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
        sections = self._sections()
        return self._render(
            "index.html",
            indicator=indicator,
            banner=_banner(indicator, active_windows, self._view),
            active=[i for i in incidents if i.is_open],
            past=[i for i in incidents if not i.is_open][:PAST_INCIDENTS_SHOWN],
            sections=sections,
            bars=self._bars(),
            maintenance_active=active_windows,
            maintenance_upcoming=[m for m in windows if m.is_upcoming],
            next_path=f"/?lang={self._language}",
            languages=[
                (code, LANGUAGE_NAMES.get(code, code)) for code in self._view.site.languages
            ],
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
            status = worst_status([c.status for c in loose])
            sections.append(GroupSection("other", name, status, loose, self._uptime(loose)))
        return sections

    def _section(self, group: GroupView) -> GroupSection:
        members = [c for cid in group.component_ids if (c := self._view.component(cid)) is not None]
        name = group.names.get(self._language) or group.names["en"]
        status = worst_status([c.status for c in members])
        return GroupSection(group.id, name, status, members, self._uptime(members))

    def _uptime(self, members: list[ComponentView]) -> str | None:
        """Return the members' uptime together in words, None without any history."""
        histories = [h for c in members if (h := self._view.uptime.get(c.id)) is not None]
        percent = combined_uptime(histories)
        if percent is None:
            return None
        return i18n.message("uptime.percent", self._language, percent=percent_text(percent))

    def _bars(self) -> dict[str, Bar]:
        """Return each component's uptime bar in this language, by component id."""
        return {
            cid: uptime_bar(history, self._language)
            for cid, history in self._view.uptime.items()
            if history.days
        }


LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}


def uptime_bar(history: UptimeView, language: str) -> Bar:
    """Return a component's bar in ``language``: cells with a tooltip each, and its figures."""
    percent = history.uptime_percent
    shown = (
        i18n.message("uptime.percent", language, percent=percent_text(percent))
        if percent is not None
        else i18n.message("uptime.no_data", language)
    )
    summary = i18n.message(
        "uptime.summary",
        language,
        days=len(history.days),
        percent=percent_text(percent),
        outage_days=sum(1 for day in history.days if day.outage > timedelta(0)),
        empty_days=sum(1 for day in history.days if not day.has_data),
    )
    cells = _Cells(language)
    markup = Markup("".join(cells.cell(day) for day in history.days))
    return Bar(markup, len(history.days), shown, summary, _bar_incidents(history, language))


class _Cells:
    """Prints day cells; days alike but for their date share one escaped tooltip text."""

    def __init__(self, language: str) -> None:
        self._language = language
        self._tails: dict[tuple[Any, ...], str] = {}

    def cell(self, day: DayView) -> str:
        """Return one day's cell: its state as a class, its tooltip as a title."""
        state = "none" if day.worst_status is None else day.worst_status.value
        incidents = tuple(ref.id for ref in day.incidents)
        key = (day.worst_status, day.observed, day.outage, day.degraded, day.maintenance, incidents)
        tail = self._tails.get(key)
        if tail is None:
            tail = self._tails[key] = str(escape(_tooltip_tail(day, self._language)))
        return f'<span class="day day-{state}" title="{day.day.isoformat()} · {tail}"></span>'


def day_tooltip(day: DayView, language: str) -> str:
    """Return a day's tooltip: date, worst status, uptime, minutes of each trouble, incidents."""
    return f"{day.day.isoformat()} · {_tooltip_tail(day, language)}"


def _tooltip_tail(day: DayView, language: str) -> str:
    """Return a day's tooltip after its date."""
    parts = []
    if day.worst_status is None:
        parts.append(i18n.message("uptime.no_data", language))
    else:
        parts.append(i18n.status_label(day.worst_status, language))
        parts.append(
            i18n.message("uptime.tip_uptime", language, percent=percent_text(day.uptime_percent))
        )
    for key, spent in (
        ("uptime.tip_outage", day.outage),
        ("uptime.tip_degraded", day.degraded),
        ("uptime.tip_maintenance", day.maintenance),
    ):
        if spent > timedelta(0):
            parts.append(i18n.message(key, language, minutes=math.ceil(spent / _MINUTE)))
    if day.incidents:
        names = _LIST_SEPARATOR[language].join(_name(i.names, language) for i in day.incidents)
        parts.append(i18n.message("uptime.tip_incidents", language, names=names))
    return " · ".join(parts)


_MINUTE = timedelta(minutes=1)
_LIST_SEPARATOR = {"ja": "、", "en": ", "}


def _bar_incidents(history: UptimeView, language: str) -> tuple[BarIncident, ...]:
    """Return each incident of the bar once, on the first shown day it touched, newest first."""
    first: dict[int, BarIncident] = {}
    for day in history.days:
        for ref in day.incidents:
            first.setdefault(ref.id, BarIncident(day.day, ref.id, _name(ref.names, language)))
    return tuple(sorted(first.values(), key=lambda i: (i.day, i.id), reverse=True))


def _name(names: dict[str, str], language: str) -> str:
    """Return ``names`` in ``language``, English when missing."""
    return names.get(language) or names["en"]


def percent_text(value: float | None) -> str:
    """Return ``99.95%``: rounded down to two decimals, so any outage shows below 100%."""
    if value is None:
        return "-"
    if value >= 100.0:
        return "100%"
    return f"{math.floor(value * 100) / 100:.2f}%"


_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def brand_css(branding: Branding) -> Markup:
    """Return the CSS custom properties of the site's colours (empty without any).

    Text on the brand colour is black or white, whichever contrasts more (always ≥ 4.5:1).
    Only ``#rrggbb`` values are used, so nothing else can reach the ``<style>`` element.
    """
    rules: list[str] = []
    if branding.brand_color and _HEX.match(branding.brand_color):
        rules.append(f"--brand:{branding.brand_color};--on-brand:{_text_on(branding.brand_color)}")
    if branding.accent_color and _HEX.match(branding.accent_color):
        rules.append(f"--accent:{branding.accent_color}")
    return Markup(":root{" + ";".join(rules) + "}") if rules else Markup("")


def _text_on(color: str) -> str:
    """Return ``#000000`` or ``#ffffff``, whichever has the higher contrast on ``color``."""
    luminance = _luminance(color)
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"


def _luminance(color: str) -> float:
    """Return the WCAG relative luminance of ``#rrggbb``."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


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
