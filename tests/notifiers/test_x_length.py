"""X's weighted length: Japanese and English, emoji, links, mixed; properties with hypothesis."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifiers.x.length import MAX_WEIGHTED_LENGTH, char_weight, fits, weighted_length
from notifiers.x.segments import clusters
from notifiers.x.urls import URL_WEIGHT, find_links

CASES = [
    ("", 0),
    ("Trading engine outage", 21),
    ("取引エンジン", 12),  # katakana and kanji weigh 2
    ("ｱｲｳ", 6),  # half-width katakana too (outside the light ranges)
    ("café", 4),  # Latin-1 weighs 1
    ("cafe\u0301", 4),  # counted after NFC: é is one code point
    ("“quoted” — ‘dash’", 17),  # U+2010-U+201F are light
    ("…", 2),  # U+2026 is not
    ("한국어", 6),
    ("😷", 2),
    ("👍🏽", 2),  # skin tone
    ("👩\u200d💻", 2),  # ZWJ sequence
    ("👨\u200d👩\u200d👧\u200d👦", 2),  # family
    ("🏳\ufe0f\u200d🌈", 2),  # rainbow flag
    ("🇯🇵🇺🇸", 4),  # two flags
    ("1\ufe0f\u20e3", 2),  # keycap
    ("©", 1),
    ("\u2600\ufe0e", 4),  # text presentation: not an emoji, counted per code point
    ("https://example.com", URL_WEIGHT),
    ("https://status.example.com/incidents/123456789/updates/987654321?lang=ja", URL_WEIGHT),
    ("HTTPS://EXAMPLE.COM/A", URL_WEIGHT),
    ("see https://example.com.", 4 + URL_WEIGHT + 1),  # the full stop is not part of the link
    ("(https://example.com/a)", 1 + URL_WEIGHT + 1),
    ("example.com", URL_WEIGHT),  # no scheme: X links it too
    ("node.js", URL_WEIGHT),  # unsure whether X links it: never less than 23
    ("https://status.example.internal/incidents/12345", 47),  # unknown TLD: its own length
    ("http://127.0.0.1:8080/x", 23),  # IP hosts are not links: literal
    ("v1.2.3 at 3.5%", 14),
    ("english text 日本語 😷 https://example.com", 46),  # twitter-text's README example
    ("障害発生。詳細: https://status.example.com/i/1 👀", 16 + URL_WEIGHT + 1 + 2),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_x_weighted_length(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_x_light_ranges_match_the_v3_config() -> None:
    assert [char_weight(chr(cp)) for cp in (0x0, 0x10FF, 0x1100, 0x2000, 0x200D, 0x200E)] == [
        1, 1, 2, 1, 1, 2,
    ]  # fmt: skip
    assert [char_weight(chr(cp)) for cp in (0x2010, 0x201F, 0x2020, 0x2032, 0x2037, 0x2038)] == [
        1, 1, 2, 1, 1, 2,
    ]  # fmt: skip


def test_x_limit_is_280_weighted() -> None:
    assert fits("a" * 280) and not fits("a" * 281)
    assert fits("あ" * 140) and not fits("あ" * 141)
    assert fits("😷" * 140) and not fits("😷" * 141)
    assert MAX_WEIGHTED_LENGTH == 280


@given(st.text())
def test_x_clusters_cover_the_text_in_order(text: str) -> None:
    pieces = list(clusters(text))
    assert "".join(text[c.start : c.end] for c in pieces) == text
    assert all(c.end > c.start for c in pieces)


@given(st.text())
def test_x_length_is_bounded_by_code_points(text: str) -> None:
    """Without links, each code point adds at most 2, and each cluster at least 1."""
    normalized = unicodedata.normalize("NFC", text)
    if not list(find_links(normalized)):
        length = weighted_length(text)
        assert len(list(clusters(normalized))) <= length <= 2 * len(normalized)


@given(st.text(), st.text())
def test_x_length_adds_up_across_a_line_break(first: str, second: str) -> None:
    """Links and emoji never span lines, so weights add up (what ``compose`` relies on)."""
    first, second = (unicodedata.normalize("NFC", t) for t in (first, second))
    joined = unicodedata.normalize("NFC", f"{first}\n{second}")
    if joined == f"{first}\n{second}":
        assert weighted_length(joined) == weighted_length(first) + 1 + weighted_length(second)


@given(st.from_regex(r"https://[a-z]{1,20}\.(com|jp|io)(/[a-z0-9]{0,80})?", fullmatch=True))
def test_x_every_link_counts_23(url: str) -> None:
    assert weighted_length(url) == URL_WEIGHT
    assert weighted_length(f"詳細は {url} を参照") == 3 * 2 + 1 + URL_WEIGHT + 1 + 3 * 2
