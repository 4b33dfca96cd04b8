"""SIGHUP: the handler reloads, logs the outcome and writes an audit entry."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from monitor.reload.plan import ReloadReport
from monitor.reload.sighup import ACTOR, SighupReload
from monitor.storage.audit import latest_audit
from monitor.storage.database import Database
from tests.reload.support import running
from tests.support import FakeClock


class Recorder:
    """A reloader that only remembers who asked."""

    def __init__(self) -> None:
        self.actors: list[str] = []
        self.called = asyncio.Event()

    async def reload(self, *, actor: str) -> ReloadReport:
        self.actors.append(actor)
        self.called.set()
        return ReloadReport(source="exwatch.yaml")


async def audited(database: Database) -> list[tuple[str, str, int | None, str | None]]:
    async with database.transaction() as session:
        rows = await latest_audit(session=session, limit=10)
    return [(r.entry.actor, r.entry.method, r.entry.status, r.entry.summary) for r in rows]


async def test_a_sighup_to_the_process_reloads(database: Database, clock: FakeClock) -> None:
    reloader = Recorder()
    handler = SighupReload(reloader, database, clock)
    stop = handler.install(asyncio.get_running_loop())
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.wait_for(reloader.called.wait(), timeout=5)
        await handler.wait()
    finally:
        stop()
    assert reloader.actors == [ACTOR]
    [(actor, method, status, _)] = await audited(database)
    assert (actor, method, status) == ("signal:SIGHUP", "SIGHUP", 200)


async def test_an_invalid_file_on_sighup_changes_nothing_and_is_audited(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        before = exwatch.services.config
        document = exwatch.edited()
        document["checks"][0]["interval"] = "0.5s"
        exwatch.write(document)
        handler = SighupReload(exwatch.services.reloader, database, clock)
        handler.handle()  # what the loop calls on the signal
        await handler.wait()
        assert exwatch.services.config is before
        entries = [e for e in await audited(database) if e[0] == ACTOR]
    [(_, _, status, summary)] = entries
    assert status == 422
    assert json.loads(summary or "{}")["problems"] == ["checks[0].interval: must be at least 1s"]


async def test_a_valid_file_on_sighup_is_applied(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        document = exwatch.edited()
        document["site"]["name"] = "Renamed"
        exwatch.write(document)
        handler = SighupReload(exwatch.services.reloader, database, clock)
        handler.handle()
        await handler.wait()
        assert exwatch.services.config.site.name == "Renamed"
        [event] = await exwatch.events("config_reloaded")
        assert event.actor == ACTOR
