"""The stencils a fan-out reuses, by key, each kept while its notice is unchanged."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from monitor.notices import Notice


class MadeFromNotice(Protocol):
    """A stencil: made from one notice, reused for mails of an equal one."""

    notice: Notice


S = TypeVar("S", bound=MadeFromNotice)


class Stencils(Generic[S]):
    """At most ``size`` stencils, the oldest dropped first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[Hashable, S] = {}

    def find(self, key: Hashable, notice: Notice) -> S | None:
        """The stencil under ``key`` if it was made from ``notice`` or an equal one."""
        stencil = self._items.get(key)
        if stencil is None or stencil.notice is notice:
            return stencil
        # The dispatcher reads the notice afresh for each batch: an equal one (the incident
        # unchanged since) keeps the stencil; a changed one needs a new stencil.
        if stencil.notice != notice:
            return None
        stencil.notice = notice
        return stencil

    def keep(self, key: Hashable, stencil: S) -> S:
        """Keep ``stencil`` under ``key`` (replacing the one there); return it."""
        if key not in self._items and len(self._items) >= self._size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = stencil
        return stencil
