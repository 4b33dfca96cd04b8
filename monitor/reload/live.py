"""The one holder of the config in force; services that follow reloads read ``current`` from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from monitor.config import Config

T = TypeVar("T")


class LiveConfig:
    """The config in force: loaded at start, replaced whole by a reload, never changed in place.

    Readers ask for ``current`` when they need it (rather than keeping parts of it), so a reload
    is one assignment here and every reader sees the new config from its next use on.
    """

    def __init__(self, config: Config) -> None:
        self._current = config

    @property
    def current(self) -> Config:
        """The config in force now."""
        return self._current

    def replace(self, config: Config) -> None:
        """Put ``config`` in force (the reloader, under the engine's lock)."""
        self._current = config

    def derived(self, build: Callable[[Config], T]) -> Derived[T]:
        """Return ``build(current)``, built again only after the config was replaced."""
        return Derived(self, build)


class Derived(Generic[T]):
    """A value computed from the config in force (a lookup table), rebuilt after a reload."""

    def __init__(self, live: LiveConfig, build: Callable[[Config], T]) -> None:
        self._live = live
        self._build = build
        self._cached: tuple[Config, T] | None = None

    def __call__(self) -> T:
        """The value for the config in force (cheap when it did not change: hot paths use it)."""
        config = self._live.current
        if self._cached is None or self._cached[0] is not config:
            self._cached = (config, self._build(config))
        return self._cached[1]


ConfigSource = Config | LiveConfig
"""What services take: a fixed config (tests, one-off tools) or the holder that follows reloads."""


def live_config(source: ConfigSource) -> LiveConfig:
    """``source`` itself if it is the holder; a holder of its own around a fixed config."""
    return source if isinstance(source, LiveConfig) else LiveConfig(source)
