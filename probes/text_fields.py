"""Config fields written as text and parsed once at load (conditions, sample selectors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import WithJsonSchema

T = TypeVar("T")


def from_text(
    kind: type[T], parse: Callable[[str], T], what: str, example: str
) -> Callable[[Any], T]:
    """Return a pydantic validator taking ``kind`` as it is, or text through ``parse``."""

    def validate(value: Any) -> T:
        if isinstance(value, kind):
            return value
        if not isinstance(value, str):
            raise ValueError(f"{what} is a string such as {example!r}")
        return parse(value)

    return validate


def string_schema(*examples: str) -> WithJsonSchema:
    """Return the JSON Schema of such a field: a string, with examples for editors."""
    return WithJsonSchema({"type": "string", "examples": list(examples)})
