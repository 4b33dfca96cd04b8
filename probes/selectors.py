"""Sample selectors: ``metric{label="value", other=~"re.*"}``, as PromQL writes instant vectors.

A selector is parsed once, when the config loads, into a Selector that picks samples by
metric name and labels. Matchers are ``=``, ``!=``, ``=~`` and ``!~``; regexes are fully
anchored, as in Prometheus (``=~"trading"`` does not match ``trading-engine``), and use
Python's ``re`` syntax. A label a sample lacks reads as the empty string, as in Prometheus.
Values are quoted with ``"``, ``'`` (escapes ``\\\\ \\" \\' \\n \\t \\r``) or backticks (raw).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal, NoReturn, cast

from pydantic import PlainSerializer, PlainValidator

from probes.text_fields import from_text, string_schema

MatchOp = Literal["=", "!=", "=~", "!~"]

_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_OPERATOR = re.compile(r"=~|!~|!=|=")
_SPACE = re.compile(r"\s*")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
_QUOTES = "\"'`"


class SelectorSyntaxError(ValueError):
    """A selector that cannot be parsed; ``column`` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.column = column


@dataclass(frozen=True, slots=True)
class LabelMatcher:
    """One ``label OP "value"`` term; regex values are compiled when the matcher is built."""

    label: str
    op: MatchOp
    value: str
    pattern: re.Pattern[str] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.op in ("=~", "!~"):
            # A frozen dataclass sets derived fields through object.__setattr__.
            object.__setattr__(self, "pattern", compile_regex(self.value))

    def matches(self, value: str) -> bool:
        """Return whether a label value (``""`` when absent) satisfies this matcher."""
        if self.pattern is not None:
            return (self.pattern.fullmatch(value) is not None) == (self.op == "=~")
        return (value == self.value) == (self.op == "=")

    def __str__(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclass(frozen=True, slots=True)
class Selector:
    """A metric name and/or label matchers; a sample must satisfy all of them."""

    metric: str | None
    matchers: tuple[LabelMatcher, ...] = ()

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        """Return whether the sample ``name{labels}`` is selected."""
        if self.metric is not None and name != self.metric:
            return False
        return all(
            m.matches(name if m.label == "__name__" else labels.get(m.label, ""))
            for m in self.matchers
        )

    def __str__(self) -> str:
        if self.metric is not None and not self.matchers:
            return self.metric
        return f"{self.metric or ''}{{{','.join(str(m) for m in self.matchers)}}}"


def compile_regex(value: str) -> re.Pattern[str]:
    """Compile a matcher's regex, raising ValueError when it is not one."""
    try:
        return re.compile(value)
    except (re.error, RecursionError, OverflowError) as error:  # re raises all three
        raise ValueError(f"bad regex {value!r}: {error}") from None


def quote(value: str) -> str:
    """Return ``value`` as a double-quoted label value, escaped as Prometheus writes it."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def format_sample(name: str, labels: Mapping[str, str]) -> str:
    """Return ``name{a="b",...}`` as Prometheus shows a sample (just ``name`` without labels)."""
    if not labels and name:
        return name
    return name + "{" + ",".join(f"{k}={quote(v)}" for k, v in labels.items()) + "}"


def parse_selector(text: str) -> Selector:
    """Parse a selector, raising SelectorSyntaxError with the column of the problem."""
    scanner = _Scanner(text)
    metric = scanner.take(_METRIC)
    matchers = _matchers(scanner) if scanner.take_char("{") else ()
    if not scanner.at_end():
        scanner.fail(f"unexpected {scanner.rest()[:12]!r}")
    if metric is None and not matchers:
        raise SelectorSyntaxError("expected a metric name or '{' with label matchers", 1)
    return Selector(metric, matchers)


class _Scanner:
    """A cursor over the selector text that skips white space between tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.skip_space()

    def skip_space(self) -> None:
        match = _SPACE.match(self.text, self.position)
        self.position = match.end() if match else self.position

    def take(self, pattern: re.Pattern[str]) -> str | None:
        match = pattern.match(self.text, self.position)
        if match is None:
            return None
        self.position = match.end()
        self.skip_space()
        return match.group()

    def take_char(self, char: str) -> bool:
        if not self.text.startswith(char, self.position):
            return False
        self.position += 1
        self.skip_space()
        return True

    def peek(self) -> str:
        return self.text[self.position : self.position + 1]

    def rest(self) -> str:
        return self.text[self.position :]

    def at_end(self) -> bool:
        return self.position >= len(self.text)

    def fail(self, message: str) -> NoReturn:
        raise SelectorSyntaxError(message, self.position + 1)


def _matchers(scanner: _Scanner) -> tuple[LabelMatcher, ...]:
    """Read ``a="b", c=~"d"}`` (after the ``{``); a trailing comma is allowed, as in PromQL."""
    matchers: list[LabelMatcher] = []
    while not scanner.take_char("}"):
        matchers.append(_matcher(scanner))
        if not scanner.take_char(",") and scanner.peek() != "}":
            scanner.fail("expected ',' or '}'")
    return tuple(matchers)


def _matcher(scanner: _Scanner) -> LabelMatcher:
    label = scanner.take(_LABEL)
    if label is None:
        scanner.fail("expected a label name")
    op = scanner.take(_OPERATOR)
    if op is None:
        scanner.fail("expected a matcher operator (= != =~ !~)")
    column = scanner.position + 1
    value = _string(scanner)
    try:
        return LabelMatcher(label, cast(MatchOp, op), value)
    except ValueError as error:
        raise SelectorSyntaxError(str(error), column) from None


def _string(scanner: _Scanner) -> str:
    """Read a quoted label value and the white space after it."""
    quote_char = scanner.peek()
    if not quote_char or quote_char not in _QUOTES:
        scanner.fail("expected a quoted label value")
    start = scanner.position
    text = scanner.text
    chars: list[str] = []
    position = start + 1
    while position < len(text) and text[position] != quote_char:
        char = text[position]
        if char == "\\" and quote_char != "`":
            char = _ESCAPES.get(text[position + 1 : position + 2], "")
            if not char:
                raise SelectorSyntaxError(
                    f"unknown escape {text[position : position + 2]!r}", position + 1
                )
            position += 1
        chars.append(char)
        position += 1
    if position >= len(text):
        raise SelectorSyntaxError("unterminated label value", start + 1)
    scanner.position = position + 1
    scanner.skip_space()
    return "".join(chars)


SelectorField = Annotated[
    Selector,
    PlainValidator(from_text(Selector, parse_selector, "a selector", 'metric{label="value"}')),
    PlainSerializer(str, return_type=str),
    string_schema('exchange_withdrawal_queue_depth{asset="btc"}', 'up{job=~"api.*"}'),
]
"""A config field holding a selector, written as text and parsed when the config loads."""
