"""A leader process paused past its lease (SIGSTOP) is replaced, and refused when it wakes."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.leader_support import (
    WAIT_S,
    MakeCandidate,
    candidates,
    eventually,
    leader_database,
)
from tests.postgres import POSTGRES_URL

pytestmark = pytest.mark.postgres
__all__ = ["candidates", "leader_database"]  # fixtures, imported for pytest

ROOT = Path(__file__).resolve().parents[2]
LEASE = 1.0
START_S = 30.0  # a cold interpreter importing SQLAlchemy on a busy machine


@asynccontextmanager
async def leader_process(log_path: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run tests/cluster/leader_process.py; always continue, stop and reap it afterwards."""
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.cluster.leader_process",
            POSTGRES_URL,
            "paused:1",
            str(LEASE),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), WAIT_S)
            except TimeoutError:
                process.kill()
                await process.wait()


async def next_event(process: asyncio.subprocess.Process, within: float = WAIT_S) -> Any:
    """The next JSON line the process prints."""
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), within)
    assert line, "the leader process exited"
    return json.loads(line)


async def test_a_paused_leader_is_replaced_and_its_writes_refused_when_it_wakes(
    candidates: MakeCandidate, tmp_path: Path
) -> None:
    async with leader_process(tmp_path / "leader.log") as process:
        assert (await next_event(process, START_S))["event"] == "started"
        assert await next_event(process, START_S) == {"event": "elected", "epoch": 1}
        standby = candidates("standby:2", lease=LEASE)
        await asyncio.sleep(LEASE)
        assert not standby.leadership.is_leader

        process.send_signal(signal.SIGSTOP)
        paused_at = time.monotonic()
        await eventually(lambda: standby.leadership.is_leader)
        assert time.monotonic() - paused_at < 2 * LEASE
        assert standby.epochs == [2]

        process.send_signal(signal.SIGCONT)
        deposed = await next_event(process)
        assert deposed["event"] == "deposed"
        assert "lease not renewed" in deposed["reason"] or "renewal failed" in deposed["reason"]
        write = await next_event(process)
        assert write == {
            "event": "write",
            "refused": "stale engine leader: this process has epoch 1, current is 2",
        }
        await asyncio.sleep(LEASE)
        assert standby.leadership.is_leader and standby.leadership.epoch == 2
