"""The metric name extractor: a table of expressions and a property over generated ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.dashboards.promql_names import KEYWORDS, metric_names

TABLE = [
    ("up", {"up"}),
    ('up{job="exwatch"} == 0', {"up"}),
    ("rate(process_cpu_seconds_total[5m])", {"process_cpu_seconds_total"}),
    (
        'histogram_quantile(0.95, sum by (le, phase) '
        '(rate(exwatch_probe_duration_seconds_bucket{component=~".*", region=~"a|b"}[5m])))',
        {"exwatch_probe_duration_seconds_bucket"},
    ),
    ("sum(rate(a_total[5m])) by (on, by) / ignoring (x) group_left (y) b", {"a_total", "b"}),
    ("(1 - exwatch:p:ratio_rate1h) / (1 - 99.9 / 100)", {"exwatch:p:ratio_rate1h"}),
    ("vector(99.9 / 100)", set()),
    ('label_replace(foo, "dst", "$1 bar", "src", "(.*)")', {"foo"}),
    ("x offset 5m > bool 1e3 and y unless z or Inf", {"x", "y", "z"}),
    ("sum without (instance) (m{__name__!=\"\", a='{b}'}[1h:5m])", {"m"}),
    ("count (\n  rate (m [5m])\n)", {"m"}),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "names"), TABLE)
def test_table(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


IDENT = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
METRIC = st.from_regex(r"[a-z_][a-z0-9_:]{0,20}", fullmatch=True).filter(
    lambda name: name.lower() not in KEYWORDS
)
VALUE = st.text(alphabet=st.characters(blacklist_characters='"\\\n'), max_size=8)


@st.composite
def selectors(draw: st.DrawFn) -> tuple[str, str]:
    """A vector selector with random matchers (labels may be keywords) and its metric name."""
    name = draw(METRIC)
    labels = draw(
        st.lists(st.tuples(st.sampled_from([*sorted(KEYWORDS), "le"]) | IDENT, VALUE), max_size=3)
    )
    op = draw(st.sampled_from(["=", "!=", "=~", "!~"]))
    matchers = ", ".join(f'{label}{op}"{value}"' for label, value in labels)
    braces: bool = bool(labels) or draw(st.booleans())
    return (f"{name}{{{matchers}}}" if braces else name), name


@st.composite
def expressions(draw: st.DrawFn, depth: int = 3) -> tuple[str, set[str]]:
    """A random expression over selectors, functions, aggregations and binary operators."""
    text, name = draw(selectors())
    if depth == 0 or draw(st.booleans()):
        return text, {name}
    inner, names = draw(expressions(depth - 1))
    by = ", ".join(draw(st.lists(IDENT | st.sampled_from(sorted(KEYWORDS)), max_size=2)))
    shape = draw(st.sampled_from(["rate", "agg", "quantile", "binary", "offset"]))
    if shape == "rate":
        return f"rate({text}[{draw(st.sampled_from(['5m', '1h', '30s']))}]) * {inner}", {
            name,
            *names,
        }
    if shape == "agg":
        return f"sum by ({by}) ({inner})", names
    if shape == "quantile":
        return f"histogram_quantile(0.9, sum without ({by}) (rate({text}[5m])))", {name}
    if shape == "binary":
        op = draw(st.sampled_from(["/", "and", "unless", "or", "> bool", "+ on (x)"]))
        return f"({inner}) {op} {text}", {name, *names}
    return f"{inner} offset 10m > 1e3", names


@given(expressions())
def test_finds_exactly_the_selected_metrics(case: tuple[str, set[str]]) -> None:
    expr, names = case
    assert metric_names(expr) == names
