"""The probe registry: one ``register`` line per kind maps its name to a spec and a probe."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from probes.result import ProbeResult
from probes.spec import ProbeSpec

SpecT_contra = TypeVar("SpecT_contra", bound=ProbeSpec, contravariant=True)


class Probe(Protocol[SpecT_contra]):
    """Runs one check once. Never raises: every error is a failed ProbeResult."""

    async def run(self, spec: SpecT_contra) -> ProbeResult:
        """Observe the target and return the result."""
        ...


@dataclass(frozen=True, slots=True)
class ProbeKind:
    """A registered kind: its config spec model and how to build its probe."""

    name: str
    spec: type[ProbeSpec]
    factory: Callable[[], Probe[Any]]


class Registry:
    """Maps kind names to ProbeKinds; registering a name twice is an error."""

    def __init__(self) -> None:
        self._kinds: dict[str, ProbeKind] = {}
        self._lock = threading.Lock()

    def register(self, name: str, spec: type[ProbeSpec], factory: Callable[[], Probe[Any]]) -> None:
        """Add a kind; raises ValueError if the name is taken."""
        with self._lock:
            if name in self._kinds:
                raise ValueError(f"probe kind {name!r} is already registered")
            self._kinds[name] = ProbeKind(name, spec, factory)

    def get(self, name: str) -> ProbeKind:
        """Return the kind registered under ``name``; raises KeyError naming the known kinds."""
        try:
            return self._kinds[name]
        except KeyError:
            raise KeyError(
                f"unknown probe kind {name!r} (known: {', '.join(self.names())})"
            ) from None

    def names(self) -> tuple[str, ...]:
        """Return the registered kind names, sorted."""
        return tuple(sorted(self._kinds))

    def kinds(self) -> tuple[ProbeKind, ...]:
        """Return every registered kind, sorted by name."""
        return tuple(self._kinds[name] for name in self.names())
