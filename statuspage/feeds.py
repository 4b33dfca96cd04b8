"""Atom and RSS feeds of the history, built with feedgen: the whole page and each component.

One entry per public incident update and per step of a maintenance window (announced, started,
completed), newest first. An entry's id is its page URL plus a fragment, so it stays the same
across snapshots; each language is its own document with its own ids (``?lang=`` on the URL).
Atom carries the text as ``type="text"``; RSS's description is HTML by definition, so the text is
HTML-escaped first (feedgen then escapes the XML): no reader ever sees markup from an incident.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

from monitor.history_views import HistoryView
from monitor.views import IncidentView, MaintenanceStatus, MaintenanceView, StatusView
from statuspage import i18n
from statuspage.messages_history import text
from statuspage.timefmt import local_text

ATOM = "application/atom+xml"
RSS = "application/rss+xml"
FEED_ENTRIES = 100
"""Entries per feed: readers poll often; the history pages hold everything older."""


class SiteLinks:
    """Absolute URLs of the public site in one language (the default language has no ``?lang``)."""

    def __init__(self, view: StatusView, language: str) -> None:
        self.base = view.site.url.rstrip("/")
        self.query = "" if language == view.site.default_language else f"?lang={language}"

    def url(self, path: str, fragment: str = "") -> str:
        """Return the absolute URL of ``path`` in this language, with ``#fragment`` if given."""
        return f"{self.base}{path}{self.query}" + (f"#{fragment}" if fragment else "")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed entry, in one language."""

    id: str
    link: str
    title: str
    body: str
    updated: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Feed:
    """One feed: what it says about itself and its entries, newest first."""

    path: str
    """Without the extension: ``/history`` is served as ``/history.atom`` and ``/history.rss``."""
    title: str
    author: str
    language: str
    links: SiteLinks
    entries: list[Entry]
    quiet_since: datetime
    """The feed's ``updated`` while it has no entry."""

    @property
    def updated(self) -> datetime:
        """The newest entry's time."""
        return self.entries[0].updated if self.entries else self.quiet_since


@dataclass(frozen=True, slots=True)
class TaggedEntry:
    """An entry and the components its incident or window touches."""

    entry: Entry
    component_ids: tuple[str, ...]


def render_feeds(
    view: StatusView, history: HistoryView, language: str
) -> dict[str, tuple[bytes, str]]:
    """Return the page's feeds and each shown component's, by path, with their media types."""
    links = SiteLinks(view, language)
    tagged = all_entries(history, links, view.site.time_zone, language)
    site = view.site.name
    newest = [item.entry for item in tagged[:FEED_ENTRIES]]
    feeds = [_feed(view, language, "/history", text("feed.title", language, name=site), newest)]
    for component in view.components:
        name = component.names.get(language) or component.names["en"]
        title = text("feed.component_title", language, name=site, component=name)
        mine = [item.entry for item in tagged if component.id in item.component_ids]
        path = f"/components/{component.id}/history"
        feeds.append(_feed(view, language, path, title, mine[:FEED_ENTRIES]))
    documents: dict[str, tuple[bytes, str]] = {}
    for feed in feeds:
        documents[feed.path + ".atom"] = (atom(feed), ATOM)
        documents[feed.path + ".rss"] = (rss(feed), RSS)
    return documents


def _feed(view: StatusView, language: str, path: str, title: str, items: list[Entry]) -> Feed:
    return Feed(
        path=path,
        title=title,
        author=view.site.name,
        language=language,
        links=SiteLinks(view, language),
        entries=items,
        quiet_since=view.updated_at,
    )


def all_entries(
    history: HistoryView, links: SiteLinks, time_zone: str, language: str
) -> list[TaggedEntry]:
    """Return an entry for every incident update and maintenance step, newest first."""
    found = [
        TaggedEntry(entry, item.component_ids)
        for item in history.incidents
        for entry in _incident_entries(item, links, language)
    ]
    found += [
        TaggedEntry(entry, window.component_ids)
        for window in history.maintenances
        for entry in _maintenance_entries(window, links, time_zone, language)
    ]
    found.sort(key=lambda item: (item.entry.updated, item.entry.id), reverse=True)
    return found


def _incident_entries(item: IncidentView, links: SiteLinks, language: str) -> Iterator[Entry]:
    name = item.names.get(language) or item.names["en"]
    page = f"/incidents/{item.id}"
    for update in item.updates:
        status = i18n.incident_status_label(update.status, language)
        yield Entry(
            id=links.url(page, f"update-{update.id}"),
            link=links.url(page),
            title=text("feed.entry_title", language, status=status, name=name),
            body=update.bodies.get(language) or update.bodies["en"],
            updated=update.created_at,
        )


def _maintenance_entries(
    window: MaintenanceView, links: SiteLinks, time_zone: str, language: str
) -> Iterator[Entry]:
    name = window.names.get(language) or window.names["en"]
    page = f"/maintenance/{window.id}"
    for step, status, at, body in _maintenance_steps(window, time_zone, language):
        label = i18n.maintenance_status_label(status, language)
        yield Entry(
            id=links.url(page, step),
            link=links.url(page),
            title=text("feed.entry_title", language, status=label, name=name),
            body=body,
            updated=at,
        )


def _maintenance_steps(
    window: MaintenanceView, time_zone: str, language: str
) -> Iterator[tuple[str, MaintenanceStatus, datetime, str]]:
    """Yield the steps of a window's life so far: fragment, status, time and text."""
    announcement = text(
        "feed.maintenance_announced",
        language,
        start=local_text(window.scheduled_start, time_zone),
        end=local_text(window.scheduled_end, time_zone),
        body=window.bodies.get(language) or window.bodies["en"],
    )
    yield "announced", MaintenanceStatus.SCHEDULED, window.created_at, announcement.strip()
    if window.started_at is not None:
        started = text("feed.maintenance_started", language)
        yield "started", MaintenanceStatus.IN_PROGRESS, window.started_at, started
    if window.ended_at is not None:
        completed = text("feed.maintenance_completed", language)
        yield "completed", MaintenanceStatus.COMPLETED, window.ended_at, completed


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot hold (control characters, surrogates).

    An incident title may hold anything a responder pasted; one stray control character must
    not stop the feeds, and with them the whole snapshot, from being published.
    """
    return _NOT_XML.sub("", value)


def atom(feed: Feed) -> bytes:
    """Return ``feed`` as an Atom document; the text is ``type="text"``, escaped as XML."""
    generator = _generator(feed, ".atom")
    for item in feed.entries:
        entry = _entry(generator, item)
        entry.content(xml_text(item.body), type="text")
    return bytes(generator.atom_str(pretty=True))


def rss(feed: Feed) -> bytes:
    """Return ``feed`` as an RSS 2.0 document; the description is the text as escaped HTML."""
    generator = _generator(feed, ".rss")
    for item in feed.entries:
        entry = _entry(generator, item)
        entry.description(escape(xml_text(item.body)).replace("\n", "<br>\n"))
        entry.guid(item.id, permalink=False)
    return bytes(generator.rss_str(pretty=True))


def _generator(feed: Feed, extension: str) -> Any:
    generator = FeedGenerator()
    self_url = feed.links.url(feed.path + extension)
    generator.id(self_url)
    generator.title(xml_text(feed.title))
    generator.subtitle(text("feed.subtitle", feed.language))
    generator.author(name=xml_text(feed.author))
    generator.language(feed.language)
    generator.link(href=self_url, rel="self")
    generator.link(href=feed.links.url("/history"), rel="alternate")  # RSS's <link>: the last one
    generator.updated(feed.updated)
    generator.lastBuildDate(feed.updated)  # not now(): the same state gives the same bytes
    return generator


def _entry(generator: Any, item: Entry) -> Any:
    entry = generator.add_entry(order="append")
    entry.id(item.id)
    entry.title(xml_text(item.title))
    entry.link(href=item.link)
    entry.updated(item.updated)
    entry.published(item.updated)
    return entry
