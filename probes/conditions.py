"""The condition language: ``[STATUS] == 200``, ``[BODY].data[0].price > 0``, ``age([BODY].ts) < 10s``.

Conditions are parsed once, when the config loads, into small objects that are evaluated
against what a probe observed; nothing is ever passed to ``eval``. A condition is
``operand OPERATOR operand`` where an operand is a placeholder (``[NAME]`` with an
optional JSON path after it), a function of a placeholder (``len``, ``has``, ``age``), a
number, a duration (``30s``), a quoted string, ``true``, ``false`` or ``null``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jsonpath

from probes.durations import parse_duration
from probes.result import ConditionOutcome

_MISSING = object()
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
# Placeholders whose numbers are milliseconds, so that ``< 1s`` means ``< 1000``.
_MILLISECOND_PLACEHOLDERS = frozenset({"RESPONSE_TIME"})
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
        return Literal(value[1:-1].encode().decode("unicode_escape"))
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
    matches = jsonpath.findall(path, value)
    return matches[0] if matches else _MISSING


def _compare(left: Any, op: str, right: Any) -> bool:
    if op in ("==", "!=") and _both_numeric(left, right):
        return _OPERATORS[op](float(left), float(right))
    if op in ("==", "!="):
        return _OPERATORS[op](left, right)
    if not _both_numeric(left, right):
        return False
    return _OPERATORS[op](float(left), float(right))


def _both_numeric(left: Any, right: Any) -> bool:
    return _is_number(left) and _is_number(right)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _age_seconds(value: Any, now: Any) -> Any:
    if not isinstance(now, int | float):
        return _MISSING
    if _is_number(value):
        stamp = float(value)
        return now - (stamp / 1000 if stamp > 1e11 else stamp)  # epoch ms or s
    if isinstance(value, str):
        try:
            return now - datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return _MISSING
    return _MISSING
