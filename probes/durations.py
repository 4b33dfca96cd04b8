"""Durations as people write them in config: ``500ms``, ``30s``, ``5m``, ``2h``, ``14d``."""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

MAX_SECONDS = 366 * 86400.0
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(text: str | float) -> float:
    """Return the duration in seconds; bare numbers are seconds."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):  # e.g. a JSON object
        raise ValueError("expected a duration such as 30s, 5m or 500ms")
    if isinstance(text, int | float):
        return _non_negative(float(text))
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration (use e.g. 500ms, 30s, 5m, 2h, 14d)")
    return _non_negative(float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def format_duration(seconds: float) -> str:
    """Return the shortest exact config spelling of ``seconds``."""
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    return f"{round(seconds * 1000)}ms"


def _non_negative(seconds: float) -> float:
    if not math.isfinite(seconds) or seconds > MAX_SECONDS:
        raise ValueError("a duration must be finite and at most 366d")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d+(\.\d+)?(ms|s|m|h|d)$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "a duration: 500ms, 30s, 5m, 2h, 14d, or seconds as a number",
        }
    ),
]
"""A duration field in seconds, written in config as ``30s`` or a number of seconds."""
