"""The history pages, the maintenance pages and everything else #5 adds to the snapshot.

``render_extras`` is the one entry point: it returns, for one language, every extra document by
path with its media type: ``/history`` (``/history/2``, … older), ``/maintenance/{id}``, the
incident pages of incidents too old for the status read model, the feeds and the badges.

The history is paginated by month: ``MONTHS_PER_PAGE`` calendar months (in the site's time
zone) per page, newest first, from this month back to the month of the oldest item; a month
without incident or maintenance says so, as Statuspage's history does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment

from monitor.history_views import HistoryView
from monitor.views import IncidentView, MaintenanceStatus, MaintenanceView, StatusView
from statuspage import i18n, messages_history
from statuspage.badges import SVG, component_badge, overall_badge
from statuspage.feeds import render_feeds
from statuspage.html import PageRenderer
from statuspage.timefmt import iso, local_text, minutes_between

HTML = "text/html; charset=utf-8"
MONTHS_PER_PAGE = 3


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """An incident or a maintenance window on the history page, by when it started."""

    at: datetime
    incident: IncidentView | None = None
    window: MaintenanceView | None = None


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month of the history and its items, newest first."""

    year: int
    month: int
    items: list[HistoryItem] = field(default_factory=list)

    @property
    def key(self) -> str:
        """``2026-11``: the month's anchor on the page."""
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class LifeStep:
    """A step of a maintenance window's life: ``announced``, ``started`` or ``completed``."""

    key: str
    at: datetime


def render_extras(
    environment: Environment, view: StatusView, history: HistoryView, language: str
) -> dict[str, tuple[bytes, str]]:
    """Return every history page, maintenance page, old incident page, feed and badge of
    ``language``, by path, as (body, media type)."""
    pages = HistoryRenderer(environment, view, history, language)
    documents = {path: (body.encode(), HTML) for path, body in pages.all().items()}
    documents |= render_feeds(view, history, language)
    documents["/badge.svg"] = (overall_badge(view, language), SVG)
    for component in view.components:
        documents[f"/components/{component.id}/badge.svg"] = (
            component_badge(component, language),
            SVG,
        )
    return documents


def history_path(page: int) -> str:
    """Return the path of history page ``page`` (1 is ``/history``)."""
    return "/history" if page == 1 else f"/history/{page}"


def history_items(history: HistoryView) -> list[HistoryItem]:
    """Return every incident and every started or finished window, newest start first.

    Windows still only scheduled are not history yet (the status page shows them as upcoming).
    """
    items = [HistoryItem(i.started_at, incident=i) for i in history.incidents]
    items += [
        HistoryItem(w.started_at or w.scheduled_start, window=w)
        for w in history.maintenances
        if w.status != MaintenanceStatus.SCHEDULED
    ]
    return sorted(items, key=_item_order, reverse=True)


def _item_order(item: HistoryItem) -> tuple[datetime, int]:
    if item.incident is not None:
        return (item.at, item.incident.id)
    assert item.window is not None
    return (item.at, item.window.id)


def months(history: HistoryView, now: datetime, time_zone: str) -> list[Month]:
    """Return every month from the newest (this month at least) back to the oldest item's."""
    zone = ZoneInfo(time_zone)
    by_month: dict[tuple[int, int], list[HistoryItem]] = {}
    for item in history_items(history):
        local = item.at.astimezone(zone)
        by_month.setdefault((local.year, local.month), []).append(item)
    today = now.astimezone(zone)
    newest = max([(today.year, today.month), *by_month])
    oldest = min([newest, *by_month])
    return [Month(y, m, by_month.get((y, m), [])) for y, m in _months_back(newest, oldest)]


def _months_back(newest: tuple[int, int], oldest: tuple[int, int]) -> list[tuple[int, int]]:
    year, month = newest
    found = []
    while (year, month) >= oldest:
        found.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def paginate(all_months: list[Month], per_page: int = MONTHS_PER_PAGE) -> list[list[Month]]:
    """Split the months into pages of ``per_page``, newest page first."""
    return [all_months[i : i + per_page] for i in range(0, len(all_months), per_page)]


class HistoryRenderer:
    """Renders the history and maintenance pages (and old incidents' pages) in one language."""

    def __init__(
        self, environment: Environment, view: StatusView, history: HistoryView, language: str
    ) -> None:
        self._environment = environment
        self._view = view
        self._history = history
        self._language = language

    def all(self) -> dict[str, str]:
        """Return every page this renderer makes, by path."""
        documents = self.history_pages()
        for window in self._history.maintenances:
            documents[f"/maintenance/{window.id}"] = self.maintenance(window)
        shown = {item.id for item in self._view.incidents}
        incident_pages = PageRenderer(self._environment, self._view, self._language)
        for item in self._history.incidents:
            if item.id not in shown:  # the snapshot renders the others already
                documents[f"/incidents/{item.id}"] = incident_pages.incident(item)
        return documents

    def history_pages(self) -> dict[str, str]:
        """Return ``/history``, ``/history/2``, … by path."""
        site = self._view.site
        pages = paginate(months(self._history, self._view.generated_at, site.time_zone))
        return {
            history_path(number): self._render(
                "history.html",
                months=page,
                page=number,
                pages=len(pages),
                newer=history_path(number - 1) if number > 1 else None,
                older=history_path(number + 1) if number < len(pages) else None,
            )
            for number, page in enumerate(pages, start=1)
        }

    def maintenance(self, window: MaintenanceView) -> str:
        """Return one maintenance window's page."""
        return self._render("maintenance_page.html", window=window, life=life(window))

    def _render(self, template: str, **context: Any) -> str:
        language, site = self._language, self._view.site
        return self._environment.get_template(template).render(
            site=site,
            lang=language,
            other_languages=[code for code in site.languages if code != language],
            t=lambda key, **values: message(key, language, **values),
            name_of=lambda names: names.get(language) or names["en"],
            iso=lambda moment: iso(moment, site.time_zone),
            local=lambda moment: local_text(moment, site.time_zone),
            duration=self._duration,
            affected=self._affected_names,
            generated_at=self._view.generated_at,
            **context,
        )

    def _affected_names(self, item: IncidentView | MaintenanceView) -> list[str]:
        shown = [self._view.component(cid) for cid in item.component_ids]
        return [c.names.get(self._language) or c.names["en"] for c in shown if c is not None]

    def _duration(self, item: IncidentView) -> str:
        minutes = minutes_between(item.started_at, item.resolved_at or self._view.generated_at)
        if minutes < 60:
            return message("duration.minutes", self._language, n=minutes)
        return message("duration.hours", self._language, h=minutes // 60, m=minutes % 60)


def life(window: MaintenanceView) -> list[LifeStep]:
    """Return the steps of a window's life so far, newest first."""
    steps = [LifeStep("announced", window.created_at)]
    if window.started_at is not None:
        steps.append(LifeStep("started", window.started_at))
    if window.ended_at is not None:
        steps.append(LifeStep("completed", window.ended_at))
    return steps[::-1]


def message(key: str, language: str, **values: object) -> str:
    """Return a message from this module's catalog, or from the page's shared one."""
    if key in messages_history.MESSAGES:
        return messages_history.text(key, language, **values)
    return i18n.message(key, language, **values)
