"""ProbeResult: what one run of one check observed, and why it passed or failed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Observations are stored with every result: keep them small whatever the target sends.
MAX_TEXT = 500
MAX_ITEMS = 20
MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class ConditionOutcome:
    """One condition of a check, whether it held, and the value it saw."""

    condition: str
    ok: bool
    observed: Any = None

    def describe(self) -> str:
        """Return ``[RESPONSE_TIME] < 300 → 412`` for a person reading why a check failed."""
        return f"{self.condition} → {_shorten(repr(self.observed))}"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One run of a check. ``error`` is set when the probe could not observe at all."""

    ok: bool
    duration_s: float
    observed: dict[str, Any] = field(default_factory=dict)
    conditions: tuple[ConditionOutcome, ...] = ()
    error: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase of the run (e.g. dns, connect, first_byte, total), for metrics."""

    @classmethod
    def judged(
        cls,
        outcomes: tuple[ConditionOutcome, ...],
        problems: list[str],
        duration_s: float,
        observed: dict[str, Any],
    ) -> ProbeResult:
        """Return a result that passed only if no built-in expectation failed and every condition held."""
        return cls(
            ok=not problems and all(o.ok for o in outcomes),
            duration_s=duration_s,
            observed=observed,
            conditions=outcomes,
            error="; ".join(problems) or None,
        )

    @property
    def failure_reason(self) -> str | None:
        """Return why the run failed in words, or None when it passed."""
        if self.ok:
            return None
        if self.error:
            return _shorten(self.error)
        failed = [c.describe() for c in self.conditions if not c.ok]
        return _shorten("; ".join(failed)) or "failed"

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict of the observation, for storage and APIs."""
        return {
            "phases": {k: round(v, 6) for k, v in self.phases.items() if math.isfinite(v)},
            "observed": {k: _json_safe(v) for k, v in self.observed.items()},
            "conditions": [
                {"condition": c.condition, "ok": c.ok, "observed": _json_safe(c.observed)}
                for c in self.conditions
            ],
        }


def _json_safe(value: Any, depth: int = 0) -> Any:
    """Return ``value`` as strict JSON (no NaN: PostgreSQL refuses it), bounded in size."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple | dict) and depth < MAX_DEPTH:
        return _json_safe_container(value, depth)
    return _shorten(value if isinstance(value, str) else repr(value))


def _json_safe_container(value: list[Any] | tuple[Any, ...] | dict[Any, Any], depth: int) -> Any:
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {_shorten(str(k)): _json_safe(v, depth + 1) for k, v in items}
    return [_json_safe(v, depth + 1) for v in value[:MAX_ITEMS]]


def _shorten(text: str) -> str:
    text = text.replace("\0", "\ufffd")  # PostgreSQL text cannot hold NUL
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
