"""The post's text: headline, update and link, within 280 weighted, cut at good boundaries."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.notices import Text
from notifiers.x.compose import clean, compose
from notifiers.x.cut import ELLIPSIS, cut, window
from notifiers.x.length import MAX_WEIGHTED_LENGTH, weighted_length
from notifiers.x.segments import clusters
from tests.notifiers.fake_x_api import INCIDENT_URL, incident_notice

HEAD_JA = "[障害] 大規模障害 — 調査中"
HEAD_EN = "[Incident] Major outage — Investigating"

PIECES = [
    "a", "Z", "7", " ", ".", "!", "?", "\n", "日", "本", "語", "。", "、", "！", "？", "ｱ",
    "😷", "👍🏽", "👩\u200d💻", "🇯🇵", "1\ufe0f\u20e3", "e\u0301", "\u0301", "한", "\u1100",
    "\u1161", " https://status.example.com/i/1 ", "example.com", "…", "\u3000",
]  # fmt: skip
texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(PIECES), max_size=300).map("".join),
)


def test_x_compose_short_post_in_japanese() -> None:
    post = compose(incident_notice(Text("取引エンジンの障害を調査中です。", "x")), "ja")
    assert post == f"{HEAD_JA}\n取引エンジンの障害を調査中です。\n{INCIDENT_URL}"


def test_x_compose_short_post_in_english() -> None:
    post = compose(incident_notice(Text("x", "We are investigating.")), "en")
    assert post == f"{HEAD_EN}\nWe are investigating.\n{INCIDENT_URL}"


def test_x_compose_both_languages_japanese_first() -> None:
    post = compose(incident_notice(Text("調査中です。", "Investigating.")), "both")
    assert post == f"{HEAD_JA}\n調査中です。\n\n{HEAD_EN}\nInvestigating.\n{INCIDENT_URL}"


def test_x_compose_resolution_states_it() -> None:
    notice = incident_notice(Text("復旧しました。", "Resolved."), status="resolved")
    assert compose(notice, "ja").startswith("[障害] 大規模障害 — 解決済み\n")


def test_x_compose_cuts_english_at_a_sentence_end() -> None:
    body = "Orders are delayed. " * 20
    post = compose(incident_notice(Text("x", body)), "en")
    text = post.split("\n")[1]
    assert text.endswith("delayed." + ELLIPSIS) and body.startswith(text[:-1])
    assert weighted_length(post) <= MAX_WEIGHTED_LENGTH and post.endswith("\n" + INCIDENT_URL)


def test_x_compose_cuts_japanese_at_a_sentence_end() -> None:
    body = "注文の約定に遅延が発生しています。" * 12
    post = compose(incident_notice(Text(body, "x")), "ja")
    text = post.split("\n")[1]
    assert text.endswith("います。" + ELLIPSIS) and body.startswith(text[:-1])
    assert weighted_length(post) <= MAX_WEIGHTED_LENGTH


def test_x_cut_falls_back_to_a_word_boundary() -> None:
    assert cut("alpha beta gamma delta epsilon", 20) == "alpha beta gamma…"


def test_x_cut_japanese_without_punctuation_at_any_character() -> None:
    assert cut("取引エンジンで遅延が発生", 14) == "取引エンジン…"


def test_x_cut_one_long_word_at_a_character() -> None:
    assert cut("x" * 50, 10) == "x" * 8 + ELLIPSIS


def test_x_cut_never_splits_an_emoji_sequence() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"
    assert cut(family * 5, 7) == family * 2 + ELLIPSIS
    assert cut("🇯🇵🇺🇸🇬🇧", 5) == "🇯🇵" + ELLIPSIS


def test_x_cut_never_splits_a_combining_mark_or_a_link() -> None:
    assert cut("x\u0301" * 10, 7) == "x\u0301" * 2 + ELLIPSIS  # no precomposed form: 2 each
    link = "https://status.example.com/incidents/1"
    assert cut(f"a {link} b c d e", 27) == f"a {link}…"
    assert cut(f"a {link} b c d e", 26) == "a…"


def test_x_cut_gives_nothing_when_not_even_the_ellipsis_fits() -> None:
    assert cut("日本語", 1) == ""


def test_x_compose_keeps_the_link_when_the_headline_is_huge() -> None:
    notice = incident_notice(Text("本文", "body"), title=Text("長" * 300, "L" * 300))
    post = compose(notice, "both")
    assert post.endswith("\n" + INCIDENT_URL) and weighted_length(post) <= MAX_WEIGHTED_LENGTH


def _boundaries(text: str) -> set[int]:
    return {0} | {c.end for c in clusters(text)}


def _body_is_a_clean_cut(original: str, posted: str) -> None:
    """``posted`` is the whole text, or a prefix ending on a character boundary plus "…"."""
    expected = clean(original)
    if posted == expected:
        return
    assert posted.endswith(ELLIPSIS), posted
    prefix = posted[: -len(ELLIPSIS)]
    assert expected.startswith(prefix)
    assert len(prefix) in _boundaries(expected)


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(["ja", "en"]))
def test_x_compose_any_text_fits_with_its_link_and_a_clean_cut(body: str, language: str) -> None:
    notice = incident_notice(Text(body, body))
    post = compose(notice, language)
    assert weighted_length(post) <= MAX_WEIGHTED_LENGTH
    head = HEAD_JA if language == "ja" else HEAD_EN
    assert post.startswith(head + "\n") and post.endswith("\n" + INCIDENT_URL)
    posted = post[len(head) + 1 : -len(INCIDENT_URL) - 1]  # "" when the text is blank
    _body_is_a_clean_cut(body, posted)


@settings(max_examples=200, deadline=None)
@given(texts, texts)
def test_x_compose_both_languages_fit_japanese_first(ja: str, en: str) -> None:
    post = compose(incident_notice(Text(ja, en)), "both")
    assert weighted_length(post) <= MAX_WEIGHTED_LENGTH
    assert post.startswith(HEAD_JA + "\n") and post.endswith("\n" + INCIDENT_URL)
    assert "\n\n" + HEAD_EN + "\n" in post


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(min_value=0, max_value=300))
def test_x_cut_is_a_prefix_within_the_limit(text: str, limit: int) -> None:
    text = clean(text)
    result = cut(text, limit)
    assert weighted_length(result) <= limit
    if result:
        _body_is_a_clean_cut(text, result)


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(min_value=0, max_value=300))
def test_x_window_changes_nothing_about_the_cut(text: str, limit: int) -> None:
    text = clean(text)
    assert text.startswith(window(text, limit))
    assert cut(window(text, limit), limit) == cut(text, limit)


def test_x_compose_a_huge_update_quickly() -> None:
    body = Text("障害が発生しています。詳細 https://example.com/a 😷 " * 5000, "Delayed. " * 20000)
    started = time.perf_counter()
    post = compose(incident_notice(body), "both")
    assert time.perf_counter() - started < 1.0
    assert weighted_length(post) <= MAX_WEIGHTED_LENGTH and post.endswith(INCIDENT_URL)


def test_x_compose_keeps_markup_as_plain_text() -> None:
    body = '<script>alert(1)</script> **bold** & "quotes"'
    post = compose(incident_notice(Text(body, body)), "en")
    assert body in post  # X shows text as text: nothing escaped, nothing interpreted
    assert "&amp;" not in post and "&lt;" not in post
