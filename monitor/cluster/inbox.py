"""Agent results across processes: an api replica stores them, the engine leader applies them.

With ``--role api`` the process that receives an agent's batch has no engine; it writes the
results to the ``engine_inbox`` table before answering the agent, so an accepted result is
never lost. The leader drains the inbox in arrival order, applies each result exactly as a
single process would, and deletes what it applied in a transaction fenced by its epoch: a
deposed leader can neither apply nor delete.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from monitor.agent.runner import result_payload
from monitor.agent_api import AgentResult, Ingest
from monitor.clock import Clock
from monitor.config import CheckConfig
from monitor.engine import AlertEngine
from monitor.storage.database import Database
from monitor.storage.engine_inbox import InboxItem, enqueue, remove, waiting
from monitor.write_refused import WriteRefusedError
from probes import ProbeResult

log = logging.getLogger(__name__)

Observe = Callable[[CheckConfig, ProbeResult, str], None]


def inbox_ingest(database: Database, clock: Clock) -> Ingest:
    """The agent endpoint's ingest for an api replica: one committed inbox row per result."""

    async def ingest(
        check: CheckConfig, result: ProbeResult, region: str, observed_at: datetime
    ) -> None:
        payload = json.loads(result_payload(check.id, observed_at, result))
        async with database.transaction() as session:
            await enqueue(
                session=session, region=region, items=[(check.id, observed_at, payload)],
                received_at=clock.now(),
            )  # fmt: skip

    return ingest


class InboxDrain:
    """The leader's loop: apply waiting agent results, then delete them (fenced)."""

    def __init__(
        self,
        database: Database,
        engine: AlertEngine,
        checks: Callable[[], dict[str, CheckConfig]],
        observe: Observe,
        *,
        every: float = 0.25,
        batch: int = 500,
    ) -> None:
        self._database = database
        self._engine = engine
        self._checks = checks
        self._observe = observe
        self._every = every
        self._batch = batch
        self._task: asyncio.Task[None] | None = None

    async def drain_once(self) -> int:
        """Apply one batch; return how many results it took off the inbox."""
        async with self._database.transaction() as session:
            items = await waiting(session=session, limit=self._batch)
        if not items:  # the common case: no lock, no guarded transaction
            return 0
        for item in items:
            await self._apply(item)
        # Fenced like every engine write: a leader deposed meanwhile leaves the rows for the
        # new one (which applies them again; the engine's state machine absorbs a repeat).
        async with self._engine.exclusive(publish=False) as session:
            await remove(session=session, ids=[item.id for item in items])
        return len(items)

    async def _apply(self, item: InboxItem) -> None:
        check = self._checks().get(item.check_id)
        if check is None:  # removed by a reload since the agent sent it
            return
        try:
            result = AgentResult.model_validate(item.result).to_probe_result()
        except ValidationError as error:
            log.error("inbox result %s of %s dropped: %s", item.id, item.check_id, error)
            return
        self._observe(check, result, item.region)
        await self._engine.ingest(check, result, region=item.region, observed_at=item.observed_at)

    def start(self) -> None:
        """Start draining in the background."""
        self._task = asyncio.create_task(self._loop(), name="engine-inbox")

    async def stop(self) -> None:
        """Stop draining (what is waiting stays for the next leader)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                taken = await self.drain_once()
            except (SQLAlchemyError, OSError) as error:
                log.error("engine inbox not drained, retrying: %s", error)
                taken = 0
            except WriteRefusedError as error:  # deposed: what is left waits for the new leader
                log.warning("engine inbox not drained: %s", error)
                taken = 0
            except Exception:  # a bug in one batch must not stop the leader applying results
                log.exception("engine inbox drain failed; retrying")
                taken = 0
            if taken < self._batch:
                await asyncio.sleep(self._every)
