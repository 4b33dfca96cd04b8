"""The condition language: parsing, evaluation with observed values, errors with columns."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probes import ConditionSyntaxError, parse_condition, parse_duration
from probes.durations import format_duration

CONTEXT: dict[str, Any] = {
    "STATUS": 200,
    "RESPONSE_TIME": 412.0,
    "BODY": {"status": "ok", "data": [{"price": "15000000"}], "ts": 1_700_000_000_000, "empty": []},
    "NOW": 1_700_000_005.0,
}


@pytest.mark.parametrize(
    ("text", "ok", "observed"),
    [
        ("[STATUS] == 200", True, 200),
        ("[STATUS] != 200", False, 200),
        ("200 == [STATUS]", True, 200),
        ("[RESPONSE_TIME] < 300", False, 412.0),
        ("[RESPONSE_TIME] < 1s", True, 412.0),
        ("[RESPONSE_TIME] <= 412", True, 412.0),
        ('[BODY].status == "ok"', True, "ok"),
        ("[BODY].status == 'down'", False, "ok"),
        ("[BODY].data[0].price > 0", True, "15000000"),
        ("[BODY].missing == 1", False, None),
        ("len([BODY].data) == 1", True, 1),
        ("len([BODY].empty) > 0", False, 0),
        ("has([BODY].status) == true", True, True),
        ("has([BODY].nope) == false", True, False),
        ("age([BODY].ts) < 10s", True, 5.0),
        ("age([BODY].ts) < 2s", False, 5.0),
        ("[BODY].status > 3", False, "ok"),
        ("[STATUS] == null", False, 200),
    ],
)
def test_evaluation(text: str, ok: bool, observed: Any) -> None:
    outcome = parse_condition(text).evaluate(CONTEXT)
    assert (outcome.ok, outcome.observed) == (ok, observed)
    assert outcome.condition == text


def test_failed_outcomes_say_what_was_seen() -> None:
    outcome = parse_condition("[RESPONSE_TIME] < 300").evaluate(CONTEXT)
    assert outcome.describe() == "[RESPONSE_TIME] < 300 → 412.0"


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("[STATUS] = 200", 10, "unexpected"),
        ("[STATUS]", 9, "expected an operator"),
        ("[STATUS] ==", 12, "expected a value"),
        ("200 == 200", 1, "needs a placeholder"),
        ("[STATUS] == 200 200", 17, "unexpected text"),
        ("len(200) > 1", 1, "len() takes a placeholder"),
        ("len([BODY].a > 1", 14, "expected ')'"),
        ("[status] == 1", 1, "unexpected"),
    ],
)
def test_syntax_errors_give_the_column(text: str, column: int, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as raised:
        parse_condition(text)
    assert raised.value.column == column
    assert message in str(raised.value)


@given(st.text(max_size=40))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ConditionSyntaxError as error:
        assert 1 <= error.column <= len(text) + 1
    else:
        condition.evaluate(CONTEXT)  # a parsed condition always evaluates


@given(
    name=st.sampled_from(["STATUS", "RESPONSE_TIME"]),
    op=st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
    value=st.integers(-1000, 100_000),
)
def test_generated_conditions_compare_like_python(name: str, op: str, value: int) -> None:
    outcome = parse_condition(f"[{name}] {op} {value}").evaluate(CONTEXT)
    observed = CONTEXT[name]
    expected = {"==": observed == value, "!=": observed != value, "<": observed < value,
                "<=": observed <= value, ">": observed > value, ">=": observed >= value}[op]  # fmt: skip
    assert outcome.ok == expected


@given(st.floats(min_value=0.001, max_value=10**7, allow_nan=False).map(lambda s: round(s, 3)))
def test_durations_round_trip(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, abs=0.0005)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("30s", 30), ("5m", 300), ("2h", 7200), ("14d", 1_209_600), (7, 7)],
)
def test_duration_spellings(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5 minutes", "-1s", "1w"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "context", "ok"),
    [
        ('[BODY].status == "正常"', {"BODY": {"status": "正常"}}, True),
        ('[BODY].v == "1.1"', {"BODY": {"v": "1.10"}}, False),  # two strings stay strings
        ("[BODY].v == 1.1", {"BODY": {"v": "1.10"}}, True),  # a number on one side compares numbers
        (
            "[BODY].v > 1",
            {"BODY": {"v": 10**400}},
            False,
        ),  # too big for a float: fails, never raises
        (
            "age([BODY].t) < 10s",
            {"BODY": {"t": 1_700_000_000_000_000}, "NOW": 1_700_000_005.0},
            True,
        ),  # µs
        (
            "age([BODY].t) < 10s",
            {"BODY": {"t": 1_700_000_000_000_000_000}, "NOW": 1_700_000_005.0},
            True,
        ),  # ns
        (
            "age([BODY].t) < 10s",
            {"BODY": {"t": 1_700_000_600}, "NOW": 1_700_000_005.0},
            False,
        ),  # future
        (
            "age([BODY].t) < 10s",
            {"BODY": {"t": "2023-11-14T22:13:20"}, "NOW": 1_700_000_005.0},
            True,
        ),  # no zone: UTC
    ],
)
def test_edge_values(text: str, context: dict[str, Any], ok: bool) -> None:
    assert parse_condition(text).evaluate(context).ok is ok


def test_a_bad_escape_is_a_syntax_error() -> None:
    with pytest.raises(ConditionSyntaxError, match="bad escape"):
        parse_condition('[BODY].a == "\\x"')


@pytest.mark.parametrize("text", [".inf", ".nan", "400d"])
def test_durations_must_be_finite_and_bounded(text: str) -> None:
    import yaml

    with pytest.raises(ValueError, match="finite"):
        parse_duration(yaml.safe_load(text) if text.startswith(".") else text)
