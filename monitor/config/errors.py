"""ConfigError and the translation of pydantic's errors into ``path: message`` lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails


class ConfigError(Exception):
    """A config that cannot be used; ``problems`` are ``path: message`` lines."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(problems))
        self.source = source
        self.problems = list(problems)


def validation_problems(error: ValidationError, kinds: Iterable[str]) -> list[str]:
    """Return one ``path: message`` line per pydantic error."""
    known = set(kinds)
    errors = error.errors()
    # A list whose items are all invalid is also "too short"; the item errors say more.
    kept = [e for e in errors if not (e["type"] == "too_short" and _has_deeper(e["loc"], errors))]
    return [f"{_path(_location(e), known)}: {_message(e, known)}" for e in kept]


def _location(error: ErrorDetails) -> tuple[int | str, ...]:
    # A tagged union reports a bad or missing tag at the item; people wrote it at `kind`.
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return (*error["loc"], "kind")
    return tuple(error["loc"])


def _has_deeper(loc: tuple[int | str, ...], errors: list[ErrorDetails]) -> bool:
    return any(len(e["loc"]) > len(loc) and e["loc"][: len(loc)] == loc for e in errors)


def _path(loc: tuple[int | str, ...], kinds: set[str]) -> str:
    path = ""
    previous: int | str | None = None
    for part in loc:
        # A tagged union puts the tag (the kind) into the path; people never wrote it.
        if isinstance(previous, int) and isinstance(part, str) and _is_tag(part, kinds):
            previous = part
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        previous = part
    return path or "<root>"


def _is_tag(part: str, kinds: set[str]) -> bool:
    return part in kinds or part.endswith("Check")


def _message(error: ErrorDetails, kinds: set[str]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required"
    if kind == "union_tag_invalid" or (kind == "literal_error" and error["loc"][-1] == "kind"):
        tag = error.get("ctx", {}).get("tag", error.get("input"))
        return f"unknown check kind {tag!r}; known kinds: {', '.join(sorted(kinds))}"
    if kind == "union_tag_not_found":
        return f"required (one of: {', '.join(sorted(kinds))})"
    if kind == "too_short":
        least = error.get("ctx", {}).get("min_length", 1)
        unit = "characters" if isinstance(error.get("input"), str) else "item(s)"
        return f"must have at least {least} {unit}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message
