"""Flat SVG badges, in the style of shields.io: the page indicator and each component's status.

Widths are estimated from the text (Verdana 11 px, wide for CJK); the text is XML-escaped.
"""

from __future__ import annotations

import unicodedata
from html import escape

from monitor.domain import ComponentStatus
from monitor.views import ComponentView, StatusView
from statuspage import i18n
from statuspage.indicator import page_indicator
from statuspage.messages_history import text

SVG = "image/svg+xml"

INDICATOR_COLOURS = {
    "none": "#2e7d32",
    "minor": "#9a6700",
    "major": "#bc4c00",
    "critical": "#cf222e",
}
STATUS_COLOURS = {
    ComponentStatus.OPERATIONAL: "#2e7d32",
    ComponentStatus.DEGRADED_PERFORMANCE: "#9a6700",
    ComponentStatus.PARTIAL_OUTAGE: "#bc4c00",
    ComponentStatus.MAJOR_OUTAGE: "#cf222e",
    ComponentStatus.UNDER_MAINTENANCE: "#0969da",
}
LABEL_COLOUR = "#555"
_NARROW = frozenset("fijlrtI1.,:;'|!()[] -")
_WIDE = frozenset("mwMW@%")
_PADDING = 10


def overall_badge(view: StatusView, language: str) -> bytes:
    """Return the page badge: "status" and the indicator in words, coloured by the indicator."""
    indicator = page_indicator(view)
    return badge(
        text("badge.label", language),
        text(f"badge.{indicator}", language),
        INDICATOR_COLOURS[indicator],
    )


def component_badge(component: ComponentView, language: str) -> bytes:
    """Return a component's badge: its name and its status in words, coloured by the status."""
    name = component.names.get(language) or component.names["en"]
    words = i18n.status_label(component.status, language)
    return badge(name, words.lower(), STATUS_COLOURS[component.status])


def badge(label: str, message: str, colour: str) -> bytes:
    """Return a flat two-part badge with ``label`` on grey and ``message`` on ``colour``."""
    left, right = text_width(label) + _PADDING, text_width(message) + _PADDING
    total = left + right
    title = escape(f"{label}: {message}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="{LABEL_COLOUR}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{escape(colour)}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,'
        'Hiragino Sans,Noto Sans CJK JP,sans-serif" font-size="11">'
        f"{_text(label, left / 2)}{_text(message, left + right / 2)}</g></svg>"
    ).encode()


def _text(words: str, centre: float) -> str:
    shown = escape(words)
    return (
        f'<text x="{centre:g}" y="15" fill="#010101" fill-opacity=".3" aria-hidden="true">'
        f'{shown}</text><text x="{centre:g}" y="14">{shown}</text>'
    )


def text_width(words: str) -> int:
    """Return the approximate width of ``words`` in pixels at Verdana 11 px."""
    return round(sum(_char_width(char) for char in words))


def _char_width(char: str) -> float:
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 11.0
    if char in _NARROW:
        return 4.0
    if char in _WIDE:
        return 10.0
    return 7.5 if char.isupper() else 6.8
