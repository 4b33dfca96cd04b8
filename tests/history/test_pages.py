"""The history pages (by month, paginated), the maintenance pages and old incidents' pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from monitor.history_views import HistoryView
from monitor.views import MaintenanceStatus
from statuspage.history import MONTHS_PER_PAGE
from tests.history.support import EVIL, incident, page, render
from tests.statuspage.support import component, hours, view, window
from tests.support import START

IN_PROGRESS, COMPLETED = MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.COMPLETED


def at(year: int, month: int, day: int, hour: int = 3) -> datetime:
    """Return a UTC time."""
    return datetime(year, month, day, hour, tzinfo=UTC)


def spread() -> HistoryView:
    """Items in Nov (two), Oct (a window), Aug and May 2026; START is 2026-11-21."""
    return HistoryView(
        incidents=(
            incident(4, at(2026, 11, 20)),
            incident(3, at(2026, 10, 31, 16)),  # 1 November 01:00 in Tokyo
            incident(2, at(2026, 8, 1)),
            incident(1, at(2026, 5, 10)),
        ),
        maintenances=(
            window(8, MaintenanceStatus.SCHEDULED, START + hours(48)),  # not history yet
            window(7, COMPLETED, at(2026, 10, 2)),
        ),
    )


def headings(html: str) -> list[str]:
    """Return the month anchors of a history page, in order."""
    return re.findall(r'<h2 id="month-([\d-]+)">', html)


def items(html: str) -> list[str]:
    """Return the links of a history page's items, in order."""
    return re.findall(r'<li class="history-item [^"]+">\s*<a href="([^"?]+)', html)


def test_months_newest_first_paginated_by_three() -> None:
    documents = render(view(), spread(), "en")
    assert MONTHS_PER_PAGE == 3
    assert "/history/4" not in documents
    first, second, third = (
        documents[p][0].decode() for p in ("/history", "/history/2", "/history/3")
    )
    assert headings(first) == ["2026-11", "2026-10", "2026-09"]
    assert headings(second) == ["2026-08", "2026-07", "2026-06"]
    assert headings(third) == ["2026-05"]
    assert items(first) == ["/incidents/4", "/incidents/3", "/maintenance/7"]
    assert items(second) == ["/incidents/2"] and items(third) == ["/incidents/1"]
    assert "No incidents or maintenance reported this month." in first  # September
    assert "/maintenance/8" not in first  # upcoming: on the status page, not in the history


def test_pages_link_to_their_neighbours() -> None:
    documents = render(view(), spread(), "ja")
    first, second, third = (
        documents[p][0].decode() for p in ("/history", "/history/2", "/history/3")
    )
    assert 'rel="prev"' not in first and 'rel="next" href="/history/2?lang=ja"' in first
    assert 'rel="prev" href="/history?lang=ja"' in second
    assert 'rel="next" href="/history/3?lang=ja"' in second
    assert 'rel="prev" href="/history/2?lang=ja"' in third and 'rel="next"' not in third
    assert "2 / 3 ページ" in second


def test_an_empty_history_is_one_page_saying_so() -> None:
    documents = render(view(), HistoryView(), "en")
    html = documents["/history"][0].decode()
    assert "/history/2" not in documents
    assert headings(html) == ["2026-11"] and "No incidents or maintenance" in html
    assert "Page 1 of 1" in html


@pytest.mark.parametrize(
    ("language", "month", "words"),
    [("ja", "2026年11月", ["障害・メンテナンス履歴", "障害Incident 4", "中程度", "解決済み"]),
     ("en", "November 2026", ["Incident history", "Incident 4", "Moderate", "Resolved"])],
)  # fmt: skip
def test_the_history_in_both_languages(language: str, month: str, words: list[str]) -> None:
    html = page(view(), spread(), language, "/history")
    assert f'<html lang="{language}">' in html and month in html
    assert all(word in html for word in words)
    assert '<time datetime="2026-11-20T12:00:00.000+09:00">2026-11-20 12:00 JST</time>' in html
    assert f'href="/history.atom?lang={language}"' in html


def test_markup_in_an_incident_is_text_on_the_history_and_incident_pages() -> None:
    history = HistoryView(incidents=(incident(9, START - hours(3), name=EVIL, body=EVIL),))
    for path in ("/history", "/incidents/9"):
        html = page(view(), history, "en", path)
        assert "<script" not in html
        assert (
            "&lt;script&gt;alert(1)&lt;/script&gt; &#34;double&#34; &#39;single&#39; &amp;" in html
        )


def test_old_incidents_get_their_page_and_shown_ones_are_left_to_the_snapshot() -> None:
    old, recent = incident(1, START - hours(900)), incident(2, START - hours(2))
    documents = render(view(incidents=(recent,)), HistoryView(incidents=(recent, old)), "en")
    assert "/incidents/1" in documents and "/incidents/2" not in documents
    assert "Looking into 1" in documents["/incidents/1"][0].decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [("ja", ["メンテナンス5", "本文5", "実施中", "予定時間", "a-ja", "告知", "開始"]),
     ("en", ["Maintenance 5", "Body 5", "In progress", "Scheduled", "Announced", "Started"])],
)  # fmt: skip
def test_a_maintenance_page_tells_the_window_and_its_life(language: str, words: list[str]) -> None:
    running = window(5, IN_PROGRESS, START - hours(1), component_ids=("b", "a"))
    html = page(view(), HistoryView(maintenances=(running,)), language, "/maintenance/5")
    assert all(word in html for word in words)
    assert '<time datetime="2026-11-21T17:00:00.000+09:00">' in html  # start, site time zone
    assert '<time datetime="2026-11-21T19:00:00.000+09:00">' in html  # end
    assert re.findall(r'<li id="(\w+)">', html) == ["started", "announced"]  # newest first
    assert ("b-ja, a-ja" if language == "ja" else "b, a") in html


def test_a_completed_window_shows_every_step_and_scheduled_ones_have_a_page() -> None:
    done = window(5, COMPLETED, START - hours(30))
    upcoming = window(6, MaintenanceStatus.SCHEDULED, START + hours(30))
    documents = render(view(), HistoryView(maintenances=(upcoming, done)), "en")
    html = documents["/maintenance/5"][0].decode()
    assert re.findall(r'<li id="(\w+)">', html) == ["completed", "started", "announced"]
    assert "Completed" in html
    later = documents["/maintenance/6"][0].decode()
    assert re.findall(r'<li id="(\w+)">', later) == ["announced"]


def test_markup_in_a_window_is_text_on_its_page() -> None:
    evil = window(
        5,
        COMPLETED,
        START - hours(30),
        names={"ja": EVIL, "en": EVIL},
        bodies={"ja": EVIL, "en": EVIL},
    )
    shown = view(components=(component("a"),))
    html = page(shown, HistoryView(maintenances=(evil,)), "en", "/maintenance/5")
    assert "<script" not in html and html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3
