"""Crash test: a fan-out to 2,000 subscribers, its sender SIGKILLed at random points and restarted
each time, ends with every subscriber holding exactly one message (one Message-ID) for the event.

A kill can fall between the SMTP server accepting a message and the sent mark being written;
that message is sent again after the lease runs out, with the same Message-ID (derived from the
delivery), which is how mail systems recognise a copy. The test counts those copies too.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import defaultdict
from pathlib import Path

from sqlalchemy import insert

from monitor.domain import ComponentStatus
from monitor.storage.database import Database
from monitor.storage.tables import subscribers
from tests.notifiers.email_support import Sink, SmtpServer
from tests.notifiers.outbox_support import Outbox, crash_config
from tests.support import FakeClock

SUBSCRIBERS = 2_000
KILLS = 4
ROOT = Path(__file__).resolve().parents[2]


async def _add_subscribers(database: Database, clock: FakeClock) -> None:
    now = clock.now()
    rows = [
        {"address": f"user{i}@example.com", "nonce": f"{i:032x}", "state": "active",
         "language": "ja" if i % 2 else "en", "all_components": True,
         "created_at": now, "updated_at": now, "confirmed_at": now,
         "confirmed_generation": 0}
        for i in range(SUBSCRIBERS)
    ]  # fmt: skip
    async with database.transaction() as session:
        await session.execute(insert(subscribers), rows)


async def _run_worker(url: str, port: int, kill_after: int | None, sink: Sink) -> int | None:
    """Start a sender; SIGKILL it once the server has taken ``kill_after`` more messages."""
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.notifiers.crash_worker", url, str(port),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    start = len(sink.messages)
    try:
        async with asyncio.timeout(90):
            while worker.returncode is None:
                if kill_after is not None and len(sink.messages) - start >= kill_after:
                    worker.send_signal(signal.SIGKILL)
                    await worker.wait()
                    return None
                await asyncio.sleep(0.005)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    return worker.returncode


async def test_a_killed_fan_out_ends_with_one_message_per_subscriber(
    database: Database, clock: FakeClock
) -> None:
    sink = Sink()
    server = SmtpServer(sink)
    await server.start()
    try:
        box = Outbox(database, crash_config(server.port), clock)
        await box.engine.start()
        await _add_subscribers(database, clock)
        await box.open_manual({"btc-trading": ComponentStatus.MAJOR_OUTAGE}, severity="minor")
        rng = random.Random(2026)
        for _ in range(KILLS):
            assert await _run_worker(database.url, server.port, rng.randint(20, 400), sink) is None
        assert await _run_worker(database.url, server.port, None, sink) == 0
    finally:
        await server.stop()
    ids_by_address: dict[str, set[str]] = defaultdict(set)
    for message in sink.messages:
        ids_by_address[str(message["To"])].add(str(message["Message-ID"]))
    mailed = {a for a in ids_by_address if a.startswith("user")}
    assert len(mailed) == SUBSCRIBERS
    assert all(len(ids_by_address[a]) == 1 for a in mailed)  # one message each, by Message-ID
    rows = await box.rows()
    assert {r.status for r in rows} == {"sent"} and len(rows) == SUBSCRIBERS  # minor: no page
    copies = len(sink.messages) - len(rows)
    print(f"\n{len(sink.messages)} messages for {len(rows)} deliveries: {copies} resent copies")
    assert copies <= KILLS * 60  # at most a flush group (50) plus the sends in flight per kill
