"""``kill -HUP``: reload the config of a running ``exwatch run``, as the admin API would.

The outcome goes to the log (there is nobody to answer) and to the audit log, as any other
operator action does: actor ``signal:SIGHUP``, and the errors of a file that was refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from monitor.clock import Clock
from monitor.config import ConfigError
from monitor.reload.plan import ReloadReport, RestartNeededError
from monitor.storage.audit import AuditEntry, record_audit
from monitor.storage.database import Database

log = logging.getLogger(__name__)
ACTOR = "signal:SIGHUP"


class Reloads(Protocol):
    """What the handler needs of the reloader."""

    async def reload(self, *, actor: str) -> ReloadReport:
        """Reload the config file."""
        ...


class SighupReload:
    """Reloads on each SIGHUP; a signal arriving during a reload waits its turn."""

    def __init__(self, reloader: Reloads, database: Database, clock: Clock) -> None:
        self._reloader = reloader
        self._database = database
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    def install(self, loop: asyncio.AbstractEventLoop) -> Callable[[], object]:
        """Handle SIGHUP on ``loop``; return the function that stops handling it."""
        loop.add_signal_handler(signal.SIGHUP, self.handle)
        return lambda: loop.remove_signal_handler(signal.SIGHUP)

    def handle(self) -> None:
        """The signal handler: start a reload in the background (a handler must not wait)."""
        task = asyncio.get_running_loop().create_task(self.reload(), name="config-reload")
        self._tasks.add(task)  # kept so the task is not collected half-way
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Wait for the reloads started so far (tests, and a clean shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def reload(self) -> None:
        """Reload, log the outcome and audit it; a refused file changes nothing."""
        status, summary = await _outcome(self._reloader.reload(actor=ACTOR))
        await self._audit(status, summary)

    async def _audit(self, status: int, summary: dict[str, object]) -> None:
        entry = AuditEntry(
            at=self._clock.now(), actor=ACTOR, role="admin", method="SIGHUP",
            route="config reload", summary=json.dumps(summary, ensure_ascii=False)[:1000],
            client=None, status=status,
        )  # fmt: skip
        try:
            async with self._database.transaction() as session:
                await record_audit(session=session, entry=entry)
        except (SQLAlchemyError, OSError) as error:
            log.error("audit entry of the SIGHUP reload not written: %s", error)


async def _outcome(reload: Awaitable[ReloadReport]) -> tuple[int, dict[str, object]]:
    """The reload's HTTP-like status and summary, logged; never raises."""
    try:
        report = await reload
    except ConfigError as error:
        log.error("SIGHUP: config not reloaded, nothing changed:\n%s", "\n".join(error.problems))
        return 422, {"error": "invalid config", "problems": error.problems}
    except RestartNeededError as error:
        log.error("SIGHUP: config not reloaded, it needs a restart: %s", error)
        return 409, {"error": "needs a restart", "problems": error.problems}
    except Exception as error:  # a signal handler's task must log, never die silently
        log.exception("SIGHUP: config not reloaded")
        return 500, {"error": f"{type(error).__name__}: {error}"}
    return 200, report.as_json()  # the reloader logged what changed
