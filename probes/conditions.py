"""The condition language: ``[STATUS] == 200``, ``[BODY].data[0].price > 0``, ``age([BODY].ts) < 10s``.

Conditions are parsed once, when the config loads, into small objects that are evaluated
against what a probe observed; nothing is ever passed to ``eval``. A condition is
``operand OPERATOR operand`` where an operand is a placeholder (``[NAME]`` with an
optional JSON path after it), a function of a placeholder (``len``, ``has``, ``age``), a
number, a duration (``30s``), a quoted string, ``true``, ``false`` or ``null``.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jsonpath

from probes.durations import parse_duration
from probes.result import ConditionOutcome

_MISSING = object()
FUTURE_TOLERANCE_S = 5.0
# Epoch timestamps in ns, µs and ms, told apart from seconds by their size (until year 5138).
_EPOCH_UNITS = ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3))
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
# Placeholders whose numbers are milliseconds, so that ``< 1s`` means ``< 1000``.
_MILLISECOND_PLACEHOLDERS = frozenset(
    {"RESPONSE_TIME", "DNS_TIME", "CONNECT_TIME", "TLS_TIME", "FIRST_BYTE_TIME"}
)
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<op>==|!=|<=|>=|<|>)
    | (?P<placeholder>\[[A-Z_]+\](?:\.[A-Za-z_][\w-]*|\[\d+\])*)
    | (?P<func>len|has|age)\(
    | (?P<close>\))
    | (?P<duration>\d+(?:\.\d+)?(?:ms|s|m|h|d)\b)
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<word>true|false|null)\b
    )""",
    re.VERBOSE,
)


class ConditionSyntaxError(ValueError):
    """A condition that cannot be parsed; ``column`` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.column = column


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant operand; durations carry their value in seconds."""

    value: Any
    is_duration: bool = False

    @property
    def unit_s(self) -> float:
        """Constants carry no time unit of their own."""
        return 1.0

    def resolve(self, context: Mapping[str, Any], unit_s: float) -> Any:
        """Return the value, scaled to the other operand's time unit when a duration."""
        return self.value / unit_s if self.is_duration else self.value


@dataclass(frozen=True, slots=True)
class Placeholder:
    """``[NAME]`` optionally followed by a JSON path into what the probe observed."""

    name: str
    path: str | None = None
    function: str | None = None

    @property
    def unit_s(self) -> float:
        """Seconds per unit of this operand's value, for comparing with durations."""
        if self.function is None and self.name in _MILLISECOND_PLACEHOLDERS:
            return 0.001
        return 1.0

    def resolve(self, context: Mapping[str, Any], unit_s: float) -> Any:
        """Return the observed value this operand names (``_MISSING`` when absent)."""
        value = _lookup(context.get(self.name, _MISSING), self.path)
        if self.function == "has":
            return value is not _MISSING
        if value is _MISSING:
            return _MISSING
        if self.function == "len":
            return len(value) if hasattr(value, "__len__") else _MISSING
        if self.function == "age":
            return _age_seconds(value, context.get("NOW"))
        return value


Operand = Literal | Placeholder


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition, evaluated against a probe's observations."""

    text: str
    left: Operand
    op: str
    right: Operand

    def placeholder_names(self) -> tuple[str, ...]:
        """Return the names of the placeholders this condition reads."""
        return tuple(o.name for o in (self.left, self.right) if isinstance(o, Placeholder))

    def evaluate(self, context: Mapping[str, Any]) -> ConditionOutcome:
        """Return whether the condition holds and the value observed on its placeholder side."""
        left = self.left.resolve(context, self.right.unit_s)
        right = self.right.resolve(context, self.left.unit_s)
        observed = left if _is_ph(self.left) or not _is_ph(self.right) else right
        if left is _MISSING or right is _MISSING:
            return ConditionOutcome(self.text, False, None)
        return ConditionOutcome(self.text, _compare(left, self.op, right), observed)


def parse_condition(text: str) -> Condition:
    """Parse one condition, raising ConditionSyntaxError with the column of the problem."""
    tokens = _tokenize(text)
    left, position = _operand(tokens, 0, text)
    if position >= len(tokens) or tokens[position][0] != "op":
        raise ConditionSyntaxError(
            "expected an operator (== != < <= > >=)", _column(tokens, position, text)
        )
    op = tokens[position][1]
    right, position = _operand(tokens, position + 1, text)
    if position != len(tokens):
        raise ConditionSyntaxError("unexpected text after the condition", tokens[position][2] + 1)
    if not (_is_ph(left) or _is_ph(right)):
        raise ConditionSyntaxError("a condition needs a placeholder such as [STATUS]", 1)
    return Condition(text.strip(), left, op, right)


def evaluate_all(
    conditions: tuple[Condition, ...], context: Mapping[str, Any]
) -> tuple[ConditionOutcome, ...]:
    """Evaluate every condition; all of them are reported, not just the first failure."""
    return tuple(condition.evaluate(context) for condition in conditions)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            column = len(text) - len(text[position:].lstrip()) + 1
            raise ConditionSyntaxError(f"unexpected {text[column - 1 :][:12]!r}", column)
        tokens.append((match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup)))
        position = match.end()
    return tokens


def _operand(tokens: list[tuple[str, str, int]], position: int, text: str) -> tuple[Operand, int]:
    if position >= len(tokens):
        raise ConditionSyntaxError("expected a value or a placeholder", len(text) + 1)
    kind, value, start = tokens[position]
    if kind == "func":
        inner, after = _operand(tokens, position + 1, text)
        if not isinstance(inner, Placeholder) or inner.function is not None:
            raise ConditionSyntaxError(f"{value}() takes a placeholder", start + 1)
        if after >= len(tokens) or tokens[after][0] != "close":
            raise ConditionSyntaxError("expected ')'", _column(tokens, after, text))
        return Placeholder(inner.name, inner.path, value), after + 1
    return _atom(kind, value, start), position + 1


def _atom(kind: str, value: str, start: int) -> Operand:
    if kind == "placeholder":
        name, _, rest = value[1:].partition("]")
        return Placeholder(name, "$" + rest if rest else None)
    if kind == "duration":
        return Literal(parse_duration(value), is_duration=True)
    if kind == "number":
        return Literal(float(value) if "." in value else int(value))
    if kind == "string":
        try:  # a Python string literal, read as data: escapes work and nothing is executed
            return Literal(ast.literal_eval(value))
        except (SyntaxError, ValueError):
            raise ConditionSyntaxError(f"bad escape in the string {value}", start + 1) from None
    if kind == "word":
        return Literal({"true": True, "false": False, "null": None}[value])
    raise ConditionSyntaxError(f"unexpected {value!r}", start + 1)


def _column(tokens: list[tuple[str, str, int]], position: int, text: str) -> int:
    return tokens[position][2] + 1 if position < len(tokens) else len(text.rstrip()) + 1


def _is_ph(operand: Operand) -> bool:
    return isinstance(operand, Placeholder)


def _lookup(value: Any, path: str | None) -> Any:
    if value is _MISSING or path is None:
        return value
    if not isinstance(value, dict | list):
        return _MISSING
    matches = _compiled(path).findall(value)
    return matches[0] if matches else _MISSING


@functools.lru_cache(maxsize=4096)
def _compiled(path: str) -> Any:
    # Compiling a path costs more than evaluating it; a config has a bounded set of paths.
    return jsonpath.compile(path)


def _compare(left: Any, op: str, right: Any) -> bool:
    numbers = _as_numbers(left, right)
    if numbers is not None:
        return _OPERATORS[op](*numbers)
    if op in ("==", "!="):
        return _OPERATORS[op](left, right)
    return False  # ordering needs numbers


def _as_numbers(left: Any, right: Any) -> tuple[float, float] | None:
    """Return both sides as numbers when one is a number and the other reads as one.

    Exchanges often send prices as strings ("15000000"); two strings stay strings.
    """
    if not (_is_real_number(left) or _is_real_number(right)):
        return None
    first, second = _to_float(left), _to_float(right)
    if first is None or second is None:
        return None
    return first, second


def _is_real_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _age_seconds(value: Any, now: Any) -> Any:
    """Seconds since a timestamp; a time in the future (clock skew, bad data) counts as missing."""
    if not isinstance(now, int | float):
        return _MISSING
    stamp = _epoch_seconds(value)
    if stamp is None or now - stamp < -FUTURE_TOLERANCE_S:
        return _MISSING
    return max(0.0, now - stamp)


def _epoch_seconds(value: Any) -> float | None:
    number = _to_float(value)
    if number is not None:
        for at_least, per_second in _EPOCH_UNITS:
            if abs(number) >= at_least:
                return number / per_second
        return number
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return None
