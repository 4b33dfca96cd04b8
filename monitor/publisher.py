"""Keeps the public snapshot fresh: re-render on every state change, and every so often anyway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from monitor.clock import Clock
from monitor.history_views import HistoryView
from monitor.storage.database import Database
from monitor.storage.history import load_history
from monitor.storage.views import load_status
from monitor.views import SiteView, StatusView

log = logging.getLogger(__name__)


class SnapshotPublisher:
    """Loads the read model and hands it to ``publish``; bursts of changes coalesce.

    ``site`` is the page's identity, or a function returning the one in force (a reload
    changes the name and branding: the next render shows them).
    """

    def __init__(
        self,
        database: Database,
        site: SiteView | Callable[[], SiteView],
        clock: Clock,
        publish: Callable[[StatusView, HistoryView], None],
        refresh_every: float = 30.0,
    ) -> None:
        self._database = database
        self._site = site if callable(site) else (lambda: site)
        self._clock = clock
        self._publish = publish
        self._refresh_every = refresh_every  # durations on the page move even when nothing changes
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def publish_now(self) -> None:
        """Load the read model and publish it (errors are logged; the old snapshot stays up)."""
        try:
            async with self._database.transaction() as session:
                view = await load_status(session=session, site=self._site(), now=self._clock.now())
                history = await load_history(session=session)
            # Rendering every page takes milliseconds of CPU; off the loop, probes keep their timing.
            await asyncio.to_thread(self._publish, view, history)
        except (SQLAlchemyError, OSError) as error:
            log.error("snapshot not refreshed, serving the previous one: %s", _reason(error))
        except Exception:  # the page must keep updating whatever one render did
            log.exception("snapshot not refreshed, serving the previous one")

    async def changed(self) -> None:
        """Ask for a re-render soon (the engine calls this after each change)."""
        self._changed.set()

    def start(self) -> None:
        """Start the background loop."""
        self._task = asyncio.create_task(self._loop(), name="snapshot-publisher")

    async def stop(self) -> None:
        """Stop the background loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=self._refresh_every)
            self._changed.clear()
            await self.publish_now()


def _reason(error: Exception) -> object:
    """The driver's own message: SQLAlchemy's repeats the whole statement and its parameters."""
    return getattr(error, "orig", None) or error
