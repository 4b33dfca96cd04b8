"""The Atom and RSS feeds parse back with feedparser: entries, ids, links, dates, languages."""

from __future__ import annotations

import calendar
from dataclasses import replace
from html import unescape

import pytest

from monitor.history_views import HistoryView
from monitor.views import MaintenanceStatus
from statuspage.feeds import FEED_ENTRIES
from tests.history.support import EVIL, incident, parse, render
from tests.statuspage.support import hours, view, window
from tests.support import START

BASE = "https://status.example"
FORMATS = ["atom", "rss"]


def sample() -> HistoryView:
    """Incident 1 on ``a`` (two days ago), 2 on ``b`` (yesterday), window 5 on ``a`` (done)."""
    return HistoryView(
        incidents=(
            incident(2, START - hours(24), components=("b",)),
            incident(1, START - hours(48)),
        ),
        maintenances=(window(5, MaintenanceStatus.COMPLETED, START - hours(72)),),
    )


def feed(path: str, language: str, history: HistoryView | None = None) -> bytes:
    """Return the bytes of the feed at ``path`` in ``language``."""
    body, _ = render(view(), history or sample(), language)[path]
    return body


@pytest.mark.parametrize("kind", FORMATS)
def test_one_entry_per_update_and_maintenance_step_newest_first(kind: str) -> None:
    parsed = parse(feed(f"/history.{kind}", "ja"))  # ja is the site's default: plain URLs
    assert [entry.id for entry in parsed.entries] == [
        f"{BASE}/incidents/2#update-22",
        f"{BASE}/incidents/2#update-21",
        f"{BASE}/incidents/1#update-12",
        f"{BASE}/incidents/1#update-11",
        f"{BASE}/maintenance/5#completed",
        f"{BASE}/maintenance/5#started",
        f"{BASE}/maintenance/5#announced",
    ]
    links = [entry.link for entry in parsed.entries]
    assert links[:2] == [f"{BASE}/incidents/2"] * 2 and links[4:] == [f"{BASE}/maintenance/5"] * 3
    stamp = "updated_parsed" if kind == "atom" else "published_parsed"  # RSS has pubDate only
    stamps = [calendar.timegm(entry[stamp]) for entry in parsed.entries]
    expected = [START - hours(23), START - hours(24), START - hours(47), START - hours(48)]
    expected += [START - hours(70), START - hours(72), START - hours(96)]
    assert stamps == [int(moment.timestamp()) for moment in expected]


@pytest.mark.parametrize("kind", FORMATS)
def test_titles_carry_the_status_in_the_feeds_language(kind: str) -> None:
    japanese = parse(feed(f"/history.{kind}", "ja")).entries
    english = parse(feed(f"/history.{kind}", "en")).entries
    assert japanese[0].title == "【解決済み】障害Incident 2"
    assert japanese[1].title == "【調査中】障害Incident 2"
    assert japanese[4].title == "【完了】メンテナンス5"
    assert english[0].title == "[Resolved] Incident 2"
    assert [e.title for e in english[4:]] == [
        "[Completed] Maintenance 5",
        "[In progress] Maintenance 5",
        "[Scheduled] Maintenance 5",
    ]


def test_each_language_is_its_own_document_with_its_own_ids() -> None:
    japanese = parse(feed("/history.atom", "ja"))
    english = parse(feed("/history.atom", "en"))
    assert japanese.feed.language == "ja" and english.feed.language == "en"
    assert japanese.feed.id == f"{BASE}/history.atom"
    assert english.feed.id == f"{BASE}/history.atom?lang=en"
    assert english.entries[0].id == f"{BASE}/incidents/2?lang=en#update-22"
    assert english.entries[0].link == f"{BASE}/incidents/2?lang=en"
    assert english.feed.title == "Demo status history"
    assert japanese.feed.title == "Demo 障害・メンテナンス情報"
    assert english.entries[0].content[0].value == "Fixed 2"
    assert japanese.entries[0].content[0].value == "解決Fixed 2"


@pytest.mark.parametrize("kind", FORMATS)
def test_a_feed_links_to_itself_and_to_the_history_page(kind: str) -> None:
    parsed = parse(feed(f"/history.{kind}", "en"))
    by_rel = {link.rel: link.href for link in parsed.feed.links}
    assert by_rel["self"] == f"{BASE}/history.{kind}?lang=en"
    assert parsed.feed.link == f"{BASE}/history?lang=en"


def test_maintenance_announcement_gives_the_schedule_in_the_site_time_zone() -> None:
    parsed = parse(feed("/history.atom", "en"))
    announced = parsed.entries[-1].content[0].value
    assert announced == (
        "Maintenance is scheduled from 2026-11-18 18:00 JST to 2026-11-18 20:00 JST. Body 5"
    )


@pytest.mark.parametrize("kind", FORMATS)
def test_the_same_history_gives_the_same_bytes_at_another_time(kind: str) -> None:
    """A re-render every 30 s must keep the ETag: nothing in a feed depends on the clock."""
    later = replace(view(), generated_at=START + hours(5))
    first = feed(f"/history.{kind}", "en")
    again, _ = render(later, sample(), "en")[f"/history.{kind}"]
    assert first == again


@pytest.mark.parametrize("kind", FORMATS)
def test_component_feeds_hold_only_that_components_items(kind: str) -> None:
    ids_a = [e.id for e in parse(feed(f"/components/a/history.{kind}", "ja")).entries]
    ids_b = [e.id for e in parse(feed(f"/components/b/history.{kind}", "ja")).entries]
    assert ids_b == [f"{BASE}/incidents/2#update-22", f"{BASE}/incidents/2#update-21"]
    assert all("/incidents/2#" not in entry for entry in ids_a)
    assert f"{BASE}/incidents/1#update-12" in ids_a and f"{BASE}/maintenance/5#started" in ids_a
    titled = parse(feed(f"/components/b/history.{kind}", "en")).feed.title
    assert titled == "Demo status history: b"


def test_media_types_and_a_pair_of_feeds_per_component() -> None:
    documents = render(view(), sample(), "en")
    assert documents["/history.atom"][1] == "application/atom+xml"
    assert documents["/history.rss"][1] == "application/rss+xml"
    for cid in ("a", "b"):
        assert documents[f"/components/{cid}/history.atom"][1] == "application/atom+xml"
        assert documents[f"/components/{cid}/history.rss"][1] == "application/rss+xml"


@pytest.mark.parametrize("kind", FORMATS)
def test_a_feed_keeps_the_newest_entries_only(kind: str) -> None:
    many = HistoryView(
        incidents=tuple(incident(n, START - hours(n * 3)) for n in range(1, 80)), maintenances=()
    )
    entries = parse(feed(f"/history.{kind}", "ja", many)).entries
    assert len(entries) == FEED_ENTRIES
    assert entries[0].id == f"{BASE}/incidents/1#update-12"


@pytest.mark.parametrize("kind", FORMATS)
def test_an_empty_history_is_still_a_valid_feed(kind: str) -> None:
    parsed = parse(feed(f"/history.{kind}", "en", HistoryView()))
    assert parsed.entries == [] and parsed.feed.title == "Demo status history"


@pytest.mark.parametrize("kind", FORMATS)
def test_markup_in_titles_and_updates_is_text_in_every_feed(kind: str) -> None:
    history = HistoryView(incidents=(incident(9, START - hours(2), name=EVIL, body=EVIL),))
    for path in (f"/history.{kind}", f"/components/a/history.{kind}"):
        raw = feed(path, "en", history)
        assert b"<script" not in raw
        entry = parse(raw).entries[0]
        assert entry.title == f"[Resolved] {EVIL}"
        if kind == "atom":  # type="text": the reader gets the literal text
            assert entry.content[0].type == "text/plain" and entry.content[0].value == EVIL
        else:  # RSS descriptions are HTML: the text arrives escaped, showing as itself
            assert "<script" not in entry.summary and unescape(entry.summary) == EVIL


@pytest.mark.parametrize("kind", FORMATS)
def test_control_characters_a_responder_pasted_never_stop_the_feeds(kind: str) -> None:
    pasted = "Login\x01 down\x0b \x1f\x00now\ufffe"
    history = HistoryView(incidents=(incident(1, START - hours(2), name=pasted, body=pasted),))
    parsed = parse(feed(f"/history.{kind}", "en", history))
    titles = {entry.title for entry in parsed.entries}
    assert titles == {"[Investigating] Login down now", "[Resolved] Login down now"}
