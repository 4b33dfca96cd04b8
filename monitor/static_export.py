"""``exwatch export``'s side in monitor: read the public state from the database exwatch writes,
once or every few seconds (``--watch``), and hand it to the site writer when it changed.

The writer (statuspage's export, wired by the CLI) renders and writes the files; this module
never imports statuspage. A read or write that fails is logged and tried again at the next
poll: the files already written stay up, as the snapshot does when the page cannot refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from monitor.clock import Clock
from monitor.history_views import HistoryView
from monitor.storage.database import Database, DatabaseUrlError, safe_url
from monitor.storage.history import load_history
from monitor.storage.migrate import current_revision, head_revision
from monitor.storage.views import load_status
from monitor.views import SiteView, StatusView

log = logging.getLogger(__name__)
Outcome = TypeVar("Outcome")


class ExportSetupError(Exception):
    """The export cannot start: the message says why and what to do."""


async def open_existing(url: str) -> Database:
    """Open the database ``exwatch run`` writes, creating and migrating nothing."""
    _refuse_missing_sqlite_file(url)
    try:
        database = Database(url)
    except DatabaseUrlError as error:
        raise ExportSetupError(str(error)) from error
    try:
        revision = await current_revision(database)
    except (SQLAlchemyError, OSError) as error:
        await database.close()
        raise ExportSetupError(f"cannot open the database {safe_url(url)}: {error}") from error
    if revision != head_revision():
        await database.close()
        raise ExportSetupError(_revision_problem(url, revision))
    return database


def _refuse_missing_sqlite_file(url: str) -> None:
    """Opening a missing SQLite file would create an empty one and export an empty page."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ExportSetupError(f"EXWATCH_DATABASE_URL is not a database URL: {error}") from error
    name = parsed.database or ""
    is_file = parsed.get_backend_name() == "sqlite" and name not in ("", ":memory:")
    if is_file and not Path(name).is_file():
        raise ExportSetupError(
            f"no database at {name}: set EXWATCH_DATABASE_URL to the database `exwatch run` writes"
        )


def _revision_problem(url: str, revision: str | None) -> str:
    if revision is None:
        return (
            f"{safe_url(url)} holds no exwatch data: point EXWATCH_DATABASE_URL at the "
            "database `exwatch run` writes"
        )
    return (
        f"the database {safe_url(url)} is at schema revision {revision}, this exwatch expects "
        f"{head_revision()}: run `exwatch db upgrade`, or export with the version `exwatch run` is"
    )


PublicState = tuple[StatusView, HistoryView]
"""The read models the public site is rendered from: the page's, and the full history's."""


async def load_state(database: Database, site: SiteView, clock: Clock) -> PublicState:
    """Load the read models the public site is rendered from (as ``SnapshotPublisher`` does)."""
    async with database.transaction() as session:
        view = await load_status(session=session, site=site, now=clock.now())
        return view, await load_history(session=session)


_MOVES_WITH_TIME = frozenset({"generated_at", "uptime"})
"""Parts of the read model that change as time passes; ``Timing.refresh`` catches up on them."""


def same_state(one: StatusView, other: StatusView) -> bool:
    """True when two read models differ at most in what moves with time alone."""
    return all(
        getattr(one, part.name) == getattr(other, part.name)
        for part in dataclasses.fields(one)
        if part.name not in _MOVES_WITH_TIME
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Timing:
    """How often ``--watch`` reads the database, and re-renders with no change (durations move)."""

    poll: float = 5.0
    refresh: float = 60.0


class ExportLoop(Generic[Outcome]):
    """Reads the state and calls ``write`` with it when it changed or a refresh is due."""

    def __init__(
        self,
        database: Database,
        site: SiteView,
        clock: Clock,
        write: Callable[[StatusView, HistoryView], Outcome],
        timing: Timing | None = None,
    ) -> None:
        self._database = database
        self._site = site
        self._clock = clock
        self._write = write
        self._timing = timing or Timing()
        self._written: PublicState | None = None
        self._written_at = 0.0

    async def once(self) -> Outcome:
        """Load the state and write it (errors propagate: the caller reports them)."""
        state = await load_state(self._database, self._site, self._clock)
        if not state[0].components:
            raise ExportSetupError(
                f"the database {safe_url(self._database.url)} has no components: "
                "has `exwatch run` used it with this config?"
            )
        return await self._write_now(state)

    async def watch(self, stop: asyncio.Event, report: Callable[[Outcome], None]) -> None:
        """Until ``stop`` is set: poll, and write when the state changed or a refresh is due."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._timing.poll)
            if not stop.is_set():
                outcome = await self.poll_once()
                if outcome is not None:
                    report(outcome)

    async def poll_once(self) -> Outcome | None:
        """One poll: the write's outcome, or None when nothing was due or the round failed."""
        try:
            state = await load_state(self._database, self._site, self._clock)
            if self._due(state):
                return await self._write_now(state)
        except (SQLAlchemyError, OSError) as error:
            log.error("export not refreshed, the files written before stay: %s", error)
        except Exception:  # whatever one round did, the next one must still run
            log.exception("export not refreshed, the files written before stay")
        return None

    def _due(self, state: PublicState) -> bool:
        if self._written is None or not same_state(self._written[0], state[0]):
            return True
        if self._written[1] != state[1]:
            return True
        return time.monotonic() - self._written_at >= self._timing.refresh

    async def _write_now(self, state: PublicState) -> Outcome:
        # Rendering and compressing every page takes CPU; off the loop, like the publisher.
        outcome = await asyncio.to_thread(self._write, *state)
        self._written, self._written_at = state, time.monotonic()
        return outcome
