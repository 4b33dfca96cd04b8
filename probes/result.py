"""ProbeResult: what one run of one check observed, and why it passed or failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ConditionOutcome:
    """One condition of a check, whether it held, and the value it saw."""

    condition: str
    ok: bool
    observed: Any = None

    def describe(self) -> str:
        """Return ``[RESPONSE_TIME] < 300 → 412`` for a person reading why a check failed."""
        return f"{self.condition} → {self.observed!r}"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One run of a check. ``error`` is set when the probe could not observe at all."""

    ok: bool
    duration_s: float
    observed: dict[str, Any] = field(default_factory=dict)
    conditions: tuple[ConditionOutcome, ...] = ()
    error: str | None = None

    @property
    def failure_reason(self) -> str | None:
        """Return why the run failed in words, or None when it passed."""
        if self.ok:
            return None
        if self.error:
            return self.error
        failed = [c.describe() for c in self.conditions if not c.ok]
        return "; ".join(failed) or "failed"

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict of the observation, for storage and APIs."""
        return {
            "observed": {k: _json_safe(v) for k, v in self.observed.items()},
            "conditions": [
                {"condition": c.condition, "ok": c.ok, "observed": _json_safe(c.observed)}
                for c in self.conditions
            ],
        }


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return repr(value)
