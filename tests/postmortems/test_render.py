"""Rendering a postmortem: Markdown becomes HTML that can run nothing, whatever was typed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.postmortems.links import is_safe_link
from monitor.postmortems.render import render_postmortem
from tests.postmortems.support import XSS_PAYLOADS, elements, unsafe_parts

# Pieces of Markdown, HTML and URL syntax, so random text often builds links, tags and entities.
FRAGMENTS = (
    "<script>", "</script>", "javascript:", "JaVaScRiPt:", "data:", "vbscript:", "[", "](", ")",
    "![", "]: ", "<", ">", '"', "'", "&#", "x6A;", "106;", "&colon;", " on", "onerror=",
    "onclick=", "<a href=", "<img src=x ", "\n", "\n\n", "\t", "`", "```", "|", "\n|-|-|\n",
    "# ", "> ", "* ", "1. ", "\\", "\x01", " ", "https://ok.example/", "mailto:", "/path",
)  # fmt: skip
markdown_texts = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=30).map("".join),
)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_known_xss_payload_survives(payload: str) -> None:
    html = render_postmortem(payload)
    assert unsafe_parts(html) == []
    assert unsafe_parts(render_postmortem(f"Intro *text*\n\n{payload}\n\nAfter.")) == []


@settings(max_examples=400)
@given(markdown_texts)
def test_nothing_that_runs_script_survives_any_input(markdown: str) -> None:
    assert unsafe_parts(render_postmortem(markdown)) == []


def test_the_checker_itself_sees_what_would_run() -> None:
    # The property above means something only if the checker catches unsafe HTML.
    html = '<a href=" JAVA&#x09;script:x" onclick="y">a</a><img src=x><p style="color:red">'
    assert unsafe_parts(html) == [
        "href ' JAVA\\tscript:x'", "a onclick=", "tag img", "img src='x'", "p style='color:red'",
    ]  # fmt: skip
    assert unsafe_parts("<SCRIPT>") == ["<script", "tag script"]


def test_markdown_becomes_html_with_links_marked_and_headings_under_the_section() -> None:
    html = render_postmortem(
        "# Summary\n\nThe **feed** stalled; see [the runbook](https://ok.example/rb) "
        "and [the page](/incidents/3).\n\n| When | What |\n|---|---|\n| 09:00 | ~~ok~~ down |"
    )
    assert "<h3>Summary</h3>" in html
    assert "<strong>feed</strong>" in html
    assert '<a href="https://ok.example/rb" rel="nofollow noopener">the runbook</a>' in html
    assert '<a href="/incidents/3" rel="nofollow noopener">the page</a>' in html
    assert "<td><s>ok</s> down</td>" in html
    assert [tag for tag, _ in elements(html)].count("h1") == 0


def test_typed_html_is_shown_as_text_and_a_refused_link_as_its_words() -> None:
    html = render_postmortem(
        "<b>bold</b> [run](javascript:alert(1)) ![pic](https://ok.example/p.png)"
    )
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "[run](javascript:alert(1))" in html  # not a link: the words as typed
    assert "<img" not in html
    assert '<a href="https://ok.example/p.png" rel="nofollow noopener">pic</a>' in html


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/x", True),
        ("HTTP://example.com", True),
        ("mailto:sre@example.com", True),
        ("/incidents/3", True),
        ("#timeline", True),
        ("?lang=en", True),
        ("//cdn.example/x", True),
        ("relative/path:with-colon", True),  # the colon comes after a slash: a path, not a scheme
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,x", False),
        ("vbscript:x", False),
        ("java%09script:x", False),
        ("%01javascript:x", False),
        ("ftp://example.com", False),
        ("file:///etc/passwd", False),
    ],
)
def test_link_targets(url: str, safe: bool) -> None:
    assert is_safe_link(url) is safe


@given(
    scheme=st.sampled_from(["javascript", "data", "vbscript", "file", "blob"]).flatmap(
        lambda s: st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in s)).map("".join)
    ),
    rest=st.text(),
)
def test_a_dangerous_scheme_is_refused_in_any_case(scheme: str, rest: str) -> None:
    assert not is_safe_link(f"{scheme}:{rest}")


def test_an_unchanged_text_is_rendered_once() -> None:
    text = "A postmortem rendered on every snapshot.\n" * 50
    assert render_postmortem(text) is render_postmortem(text)
