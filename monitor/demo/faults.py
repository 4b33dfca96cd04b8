"""The demo exchange's fault table: which component is broken, how, and until when.

Pure logic with an injected clock, so expiry is testable without waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_SECONDS = 300.0
MAX_SECONDS = 86400.0

# A fault on the key breaks these components too: they cannot work without it.
DEPENDENTS: Mapping[str, tuple[str, ...]] = {
    "trading-engine": ("order-entry", "btc-jpy-trading", "eth-jpy-trading"),
}
_PARENTS: Mapping[str, tuple[str, ...]] = {
    child: tuple(parent for parent, children in DEPENDENTS.items() if child in children)
    for child in {c for children in DEPENDENTS.values() for c in children}
}


class FaultMode(StrEnum):
    """How a faulty component misbehaves."""

    DOWN = "down"
    SLOW = "slow"
    ERROR = "error"
    STALE = "stale"


_MODES: Mapping[str, FaultMode] = {mode.value: mode for mode in FaultMode}
_SEVERITY = (FaultMode.DOWN, FaultMode.ERROR, FaultMode.SLOW, FaultMode.STALE)  # worst first


class FaultRequestError(ValueError):
    """A fault request with a bad field; the message names the field."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault, active until ``until`` (UTC)."""

    target: str
    mode: FaultMode
    until: datetime

    def to_json(self) -> dict[str, str]:
        """Return the fault as the fault API shows it."""
        return {"target": self.target, "mode": self.mode.value, "until": isoformat_utc(self.until)}


def isoformat_utc(moment: datetime) -> str:
    """Return ``moment`` as ISO 8601 UTC with a ``Z``, e.g. ``2025-01-02T03:04:05.678Z``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_mode(value: object) -> FaultMode:
    """Return ``value`` as a FaultMode, or raise FaultRequestError naming the ``mode`` field."""
    if isinstance(value, str) and value in _MODES:
        return _MODES[value]
    raise FaultRequestError(f"mode must be one of {', '.join(_MODES)} (got {value!r})")


def parse_seconds(value: object) -> float:
    """Return ``value`` as a duration in seconds, or raise FaultRequestError naming ``seconds``."""
    # bool is an int subclass but no duration; NaN and infinity (valid JSON to Python)
    # fail the range test because every comparison with NaN is false.
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= MAX_SECONDS:
        return float(value)
    raise FaultRequestError(
        f"seconds must be a positive number of at most {MAX_SECONDS:g} (got {value!r})"
    )


class FaultTable:
    """The active faults, one per target; expired ones vanish when next looked at."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._faults: dict[str, Fault] = {}

    def inject(self, target: str, mode: object, seconds: object = DEFAULT_SECONDS) -> Fault:
        """Break ``target`` in ``mode`` for ``seconds``, replacing any fault it had."""
        fault = Fault(
            target, parse_mode(mode), self._clock() + timedelta(seconds=parse_seconds(seconds))
        )
        self._faults[target] = fault
        return fault

    def clear(self, target: str | None = None) -> int:
        """Clear one target's fault, or all when ``target`` is None; return how many."""
        self._expire()
        if target is None:
            count = len(self._faults)
            self._faults.clear()
            return count
        return int(self._faults.pop(target, None) is not None)

    def active(self) -> list[Fault]:
        """Return the faults still in force, by target."""
        self._expire()
        return sorted(self._faults.values(), key=lambda fault: fault.target)

    def mode_for(self, component_id: str) -> FaultMode | None:
        """Return how ``component_id`` misbehaves now: the worst of its and its parents' faults."""
        self._expire()
        sources = (component_id, *_PARENTS.get(component_id, ()))
        modes = [self._faults[s].mode for s in sources if s in self._faults]
        # A slow order entry still fails outright when the engine behind it is down.
        return min(modes, key=_SEVERITY.index, default=None)

    def _expire(self) -> None:
        now = self._clock()
        for target in [t for t, fault in self._faults.items() if fault.until <= now]:
            del self._faults[target]
