"""Badges: shields.io-like SVG for the page and each component, escaped, sized by their text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from monitor.domain import ComponentStatus, Severity
from monitor.history_views import HistoryView
from monitor.views import StatusView
from statuspage.badges import badge, text_width
from tests.history.support import EVIL, incident, render
from tests.statuspage.support import component, view
from tests.support import START

SVG_NS = "{http://www.w3.org/2000/svg}"


def svg(path: str, language: str, shown: StatusView | None = None) -> ET.Element:
    """Render and parse the badge at ``path``."""
    documents = render(shown or view(), HistoryView(), language)
    body, media_type = documents[path]
    assert media_type == "image/svg+xml"
    return ET.fromstring(body)


def title(root: ET.Element) -> str:
    """Return the badge's accessible title."""
    found = root.find(f"{SVG_NS}title")
    assert found is not None and found.text is not None
    return found.text


def fills(root: ET.Element) -> list[str]:
    """Return the fills of the badge's rectangles: label, message, gloss."""
    return [rect.get("fill", "") for rect in root.iter(f"{SVG_NS}rect")][1:]


def open_incident(severity: Severity) -> StatusView:
    """Return a page with one open incident of ``severity``."""
    item = replace(incident(1, START, resolved=False), severity=severity)
    return view(incidents=(item,))


@pytest.mark.parametrize(
    ("severity", "words", "colour"),
    [(None, "operational", "#2e7d32"), (Severity.MINOR, "minor outage", "#9a6700"),
     (Severity.MODERATE, "partial outage", "#bc4c00"),
     (Severity.CRITICAL, "major outage", "#cf222e")],
)  # fmt: skip
def test_the_page_badge_says_the_indicator_in_words_and_colour(
    severity: Severity | None, words: str, colour: str
) -> None:
    root = svg("/badge.svg", "en", open_incident(severity) if severity else None)
    assert title(root) == f"status: {words}"
    assert root.get("aria-label") == f"status: {words}" and root.get("role") == "img"
    assert fills(root)[:2] == ["#555", colour]


def test_the_japanese_badge_is_in_japanese() -> None:
    assert title(svg("/badge.svg", "ja")) == "ステータス: 正常"
    assert title(svg("/components/a/badge.svg", "ja")) == "a-ja: 正常"


@pytest.mark.parametrize(
    ("status", "words", "colour"),
    [(ComponentStatus.OPERATIONAL, "operational", "#2e7d32"),
     (ComponentStatus.DEGRADED_PERFORMANCE, "degraded performance", "#9a6700"),
     (ComponentStatus.PARTIAL_OUTAGE, "partial outage", "#bc4c00"),
     (ComponentStatus.MAJOR_OUTAGE, "major outage", "#cf222e"),
     (ComponentStatus.UNDER_MAINTENANCE, "under maintenance", "#0969da")],
)  # fmt: skip
def test_a_component_badge_gives_its_status(
    status: ComponentStatus, words: str, colour: str
) -> None:
    shown = view(components=(component("a", status), component("b")))
    root = svg("/components/a/badge.svg", "en", shown)
    assert title(root) == f"a: {words}"
    assert fills(root)[:2] == ["#555", colour]
    assert title(svg("/components/b/badge.svg", "en", shown)) == "b: operational"


def test_text_in_a_badge_is_escaped() -> None:
    shown = view(components=(replace(component("a"), names={"ja": EVIL, "en": EVIL}),))
    body, _ = render(shown, HistoryView(), "en")["/components/a/badge.svg"]
    assert b"<script" not in body
    root = ET.fromstring(body)
    assert title(root) == f"{EVIL}: operational"
    assert [t.text for t in root.iter(f"{SVG_NS}text")][:2] == [EVIL, EVIL]


def test_widths_follow_the_text() -> None:
    short, long = (
        ET.fromstring(badge("a", "ok", "#000")),
        ET.fromstring(badge("a", "ok" * 9, "#000")),
    )
    grown = int(long.get("width", "0")) - int(short.get("width", "0"))
    assert grown == text_width("ok" * 9) - text_width("ok") > 0
    assert text_width("正常") > text_width("ok") and text_width("WWW") > text_width("iii")
    root = ET.fromstring(badge("status", "operational", "#000"))
    label, message = [int(r.get("width", "0")) for r in root.iter(f"{SVG_NS}rect")][1:3]
    assert label + message == int(root.get("width", "0"))
    assert label == text_width("status") + 10 and message == text_width("operational") + 10
