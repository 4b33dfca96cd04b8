"""The channel registry: one ``register`` line per channel kind maps its name to a factory."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from monitor.config import Config, ConfigError
from notifiers.channel import Channel

ChannelFactory = Callable[[Config, Mapping[str, str]], Channel | None]
"""Builds a channel from the config and the environment (its secrets); None if not configured."""


@dataclass(frozen=True, slots=True)
class ChannelKind:
    """A registered channel: its name and how to build it."""

    name: str
    factory: ChannelFactory


class Registry:
    """Maps channel names to ChannelKinds; registering a name twice is an error."""

    def __init__(self) -> None:
        self._kinds: dict[str, ChannelKind] = {}
        self._lock = threading.Lock()

    def register(self, name: str, factory: ChannelFactory) -> None:
        """Add a channel kind; raises ValueError if the name is taken."""
        with self._lock:
            if name in self._kinds:
                raise ValueError(f"channel {name!r} is already registered")
            self._kinds[name] = ChannelKind(name, factory)

    def names(self) -> tuple[str, ...]:
        """Return the registered channel names, sorted."""
        return tuple(sorted(self._kinds))

    def build(self, config: Config, env: Mapping[str, str]) -> dict[str, Channel]:
        """Build every channel the config sets up, by name.

        Raises ConfigError naming each channel that cannot be built (a secret missing from the
        environment, say), so exwatch refuses to start rather than fail at the first outage.
        """
        built: dict[str, Channel] = {}
        problems: list[str] = []
        for kind in self._kinds.values():
            try:
                channel = kind.factory(config, env)
            except ConfigError as error:
                problems += error.problems
                continue
            except ValueError as error:
                problems.append(f"notifications.{kind.name}: {error}")
                continue
            if channel is not None:
                built[kind.name] = channel
        if problems:
            raise ConfigError("<environment>", problems)
        return built
