"""Sample selectors: parsing (with property tests), round trips to text, matching, errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probes.selectors import (
    LabelMatcher,
    MatchOp,
    Selector,
    SelectorSyntaxError,
    format_sample,
    parse_selector,
)

OPS: tuple[MatchOp, ...] = ("=", "!=", "=~", "!~")
METRICS = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,12}", fullmatch=True)
LABELS = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,12}", fullmatch=True)
REGEXES = st.lists(
    st.sampled_from(["a", "b.*", "[0-9]+", "(x|y)", r"\.", "c?", "-", "(?:btc|eth)"]), max_size=4
).map("".join)
SPACES = st.sampled_from(["", " ", "  ", "\t", "\n "])


@st.composite
def matchers(draw: st.DrawFn) -> LabelMatcher:
    op = draw(st.sampled_from(OPS))
    value = draw(REGEXES if op in ("=~", "!~") else st.text(max_size=12))
    return LabelMatcher(draw(LABELS), op, value)


@st.composite
def selectors(draw: st.DrawFn) -> Selector:
    metric = draw(st.none() | METRICS)
    found = draw(st.lists(matchers(), min_size=0 if metric else 1, max_size=4))
    return Selector(metric, tuple(found))


@st.composite
def written(draw: st.DrawFn, selector: Selector) -> str:
    """Write ``selector`` as a person might: any quotes, spacing and a trailing comma."""

    def space() -> str:
        return draw(SPACES)

    terms = [
        f"{m.label}{space()}{m.op}{space()}{_quoted(draw, m.value)}" for m in selector.matchers
    ]
    trailing_comma = draw(st.sampled_from(["", ","])) if terms else ""
    body = f",{space()}".join(terms) + trailing_comma
    with_braces = bool(terms) or draw(st.booleans())  # ``metric{}`` means ``metric``
    braces = f"{{{space()}{body}{space()}}}" if with_braces else ""
    return f"{space()}{selector.metric or ''}{space()}{braces}{space()}"


def _quoted(draw: st.DrawFn, value: str) -> str:
    style = draw(st.sampled_from(['"', "'", "`"]))
    if style == "`" and "`" not in value:
        return f"`{value}`"
    quote = "'" if style == "'" else '"'
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    if draw(st.booleans()):  # escapes and raw control characters read the same
        escaped = escaped.replace("\n", "\\n").replace("\t", "\\t")
    return f"{quote}{escaped}{quote}"


@given(st.data(), selectors())
def test_written_selectors_parse_to_what_was_meant(data: st.DataObject, selector: Selector) -> None:
    text = data.draw(written(selector))
    assert parse_selector(text) == selector


@given(selectors())
def test_selectors_round_trip_through_text(selector: Selector) -> None:
    text = str(selector)
    assert parse_selector(text) == selector
    assert str(parse_selector(text)) == text


SELECTOR_ALPHABET = st.sampled_from([*"abz_:{}=!~,\"'`\\ .*()[]|?+\n", "=~", "!~", "\\n"])


@given(st.text() | st.lists(SELECTOR_ALPHABET, max_size=30).map("".join))
def test_arbitrary_text_parses_or_raises_value_error(text: str) -> None:
    try:
        selector = parse_selector(text)
    except ValueError as error:
        assert str(error)
    else:
        assert parse_selector(str(selector)) == selector


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ('up{job="api"}', {"job": "api"}, True),
        ('up{job="api"}', {"job": "api2"}, False),
        ('up{job!="api"}', {"job": "web"}, True),
        ('up{job!="api"}', {}, True),
        ('up{job=""}', {}, True),  # a missing label reads as ""
        ('up{job!=""}', {}, False),
        ('up{job=~"trading"}', {"job": "trading-engine"}, False),  # regexes are anchored
        ('up{job=~"trading.*"}', {"job": "trading-engine"}, True),
        ('up{job=~"a|b"}', {"job": "ab"}, False),  # anchored around the whole alternation
        ('up{job!~"trading.*"}', {"job": "website"}, True),
        ('up{job!~"trading.*"}', {"job": "trading-engine"}, False),
        ('up{job=~"(?i)API"}', {"job": "api"}, True),
        ('up{job="a", zone=~"jp-.*"}', {"job": "a", "zone": "jp-1"}, True),
        ('up{job="a", zone=~"jp-.*"}', {"job": "a", "zone": "us-1"}, False),
        ('{__name__=~"u."}', {}, True),
        ("down", {}, False),
    ],
)
def test_matching(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_selector(text).matches("up", labels) is expected


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("", 1, "expected a metric name"),
        ("{}", 1, "expected a metric name"),
        ("up{", 4, "expected a label name"),
        ('up{job~"x"}', 7, "expected a matcher operator"),
        ('up{job="a" zone="b"}', 12, "expected ',' or '}'"),
        ("up{job=api}", 8, "expected a quoted label value"),
        ('up{job="api}', 8, "unterminated label value"),
        ('up{job="\\d"}', 9, "unknown escape"),
        ('up{job=~"("}', 9, "bad regex '('"),
        ("up down", 4, "unexpected 'down'"),
        ("rate(up[5m])", 5, "unexpected"),
    ],
)
def test_errors_name_the_column(text: str, column: int, message: str) -> None:
    with pytest.raises(SelectorSyntaxError, match=f"^column {column}: {re.escape(message)}"):
        parse_selector(text)


def test_label_values_are_written_escaped() -> None:
    selector = parse_selector(r"""m{path='say "hi"\n', dir=`C:\tmp`}""")
    assert selector.matchers[0].value == 'say "hi"\n'
    assert selector.matchers[1].value == "C:\\tmp"
    assert str(selector) == r'm{path="say \"hi\"\n",dir="C:\\tmp"}'
    assert format_sample("m", {"a": 'x"y'}) == 'm{a="x\\"y"}'
    assert format_sample("m", {}) == "m"
