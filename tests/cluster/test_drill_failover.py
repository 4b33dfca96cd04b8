"""Fault drills of the engine leader (issue #9), on PostgreSQL with real processes.

One api replica and two engines with a 2 s lease. SIGKILL the leader during an incident and
during a 2,000-recipient fan-out; SIGSTOP it past its lease and SIGCONT it. The standby takes
over, no incident is opened twice, no delivery is lost or sent twice (one Message-ID each), and
a paused leader's writes are refused when it wakes.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.cluster_support import (
    LEASE_S,
    Cluster,
    cluster,
    execute_many,
    fetch,
    health,
)
from tests.cluster.drill_support import LoopbackSite, drill_document, eventually, loopback_site
from tests.notifiers.email_support import Sink, SmtpServer

# Real processes start slowly on a busy machine: more than the suite's 120 s per test.
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

SUBSCRIBERS = 2_000
TAKEOVER_S = 2 * LEASE_S + 2.0  # the bound, plus one /healthz poll on a busy machine
WAIT_S = 40.0


def drill_config(site: LoopbackSite, smtp_port: int | None = None) -> str:
    """Two components with a 1 s http check each; email to a local SMTP server if given."""
    document = drill_document(site, {"api": "access", "wallet": "assets"})
    if smtp_port is not None:
        document["notifications"] = {
            "email": {"sender": "Status <status@example.com>",
                      "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
                      "limits": {"rate_per_second": 100000, "concurrency": 8}},
            "delivery": {"lease": "5s", "batch": 200, "max_attempts": 20,
                         "backoff_base": "1s", "backoff_cap": "2s"},
        }  # fmt: skip
    return yaml.safe_dump(document, allow_unicode=True)


async def two_engines(drill: Cluster) -> tuple[Any, Any]:
    """Start the api and two engines; return (leader, standby)."""
    await drill.start_api()
    first = await drill.start_engine()
    await eventually(
        lambda: health(first), lambda h: h.get("leader") is True, "a leader", within=WAIT_S
    )
    second = await drill.start_engine()
    return first, second


async def open_incidents() -> list[Any]:
    return await fetch("SELECT id FROM incidents WHERE resolved_at IS NULL")


async def takeover(standby: Any, started: float) -> float:
    """Wait for ``standby`` to lead; return how long it took from ``started``."""
    await eventually(
        lambda: health(standby), lambda h: h.get("leader") is True, "the takeover", within=WAIT_S
    )
    return time.monotonic() - started


async def test_a_killed_leader_is_replaced_and_its_incident_is_not_opened_twice(
    tmp_path: Path,
) -> None:
    async with loopback_site() as site, cluster(drill_config(site), tmp_path) as drill:
        leader, standby = await two_engines(drill)
        site.answer("wallet", 503)
        await eventually(open_incidents, lambda rows: len(rows) == 1, "the incident", within=WAIT_S)
        leader.process.send_signal(signal.SIGKILL)
        took = await takeover(standby, time.monotonic())
        print(f"takeover after SIGKILL: {took:.2f} s (lease {LEASE_S} s)")
        assert took < TAKEOVER_S
        await asyncio.sleep(3 * LEASE_S)  # the new leader judges the still-failing check
        assert len(await open_incidents()) == 1
        site.answer("wallet", 200)  # and it is the new leader that sees the recovery
        await eventually(
            lambda: fetch("SELECT status FROM incidents"),
            lambda rows: [r["status"] for r in rows] == ["monitoring"], "the recovery", within=WAIT_S,
        )  # fmt: skip
        assert len(await fetch("SELECT id FROM incidents")) == 1
        assert "Traceback" not in standby.log_text()


async def test_a_paused_leader_is_deposed_and_its_writes_are_refused(tmp_path: Path) -> None:
    async with loopback_site() as site, cluster(drill_config(site), tmp_path) as drill:
        leader, standby = await two_engines(drill)
        leader.process.send_signal(signal.SIGSTOP)
        try:
            took = await takeover(standby, time.monotonic())
            # While the old leader sleeps, the new one opens the incident.
            site.answer("wallet", 503)
            await eventually(
                open_incidents, lambda rows: len(rows) == 1, "the incident", within=WAIT_S
            )
        finally:
            leader.process.send_signal(signal.SIGCONT)
        print(f"takeover after SIGSTOP: {took:.2f} s (lease {LEASE_S} s)")
        assert took < TAKEOVER_S + LEASE_S  # the lease must run out first
        woke = await eventually(
            lambda: health(leader),
            lambda h: h.get("leader") is False,
            "the step-down",
            within=WAIT_S,
        )
        assert woke["epoch"] is None
        epochs = await fetch("SELECT epoch FROM engine_leader")
        assert (await health(standby))["epoch"] == epochs[0]["epoch"] == 2
        await asyncio.sleep(2 * LEASE_S)
        assert len(await open_incidents()) == 1 and leader.alive
        assert "no longer engine leader" in leader.log_text()
        assert "Traceback" not in leader.log_text() + standby.log_text()


async def test_a_leader_killed_during_a_fan_out_loses_and_repeats_no_mail(tmp_path: Path) -> None:
    sink = Sink()
    server = SmtpServer(sink)
    await server.start()
    try:
        async with (
            loopback_site() as site,
            cluster(drill_config(site, server.port), tmp_path) as drill,
        ):
            leader, standby = await two_engines(drill)
            await add_subscribers()
            site.answer("wallet", 503)
            await eventually(
                lambda: asyncio.sleep(0, len(sink.messages)),
                lambda n: n >= 100,
                "the fan-out",
                within=WAIT_S,
            )
            leader.process.send_signal(signal.SIGKILL)
            await takeover(standby, time.monotonic())
            await eventually(
                pending_deliveries, lambda n: n == 0, "every delivery sent", within=120
            )
    finally:
        await server.stop()
    ids_by_address: dict[str, set[str]] = defaultdict(set)
    for message in sink.messages:
        ids_by_address[str(message["To"])].add(str(message["Message-ID"]))
    mailed = {a for a in ids_by_address if a.startswith("user")}
    assert len(mailed) == SUBSCRIBERS  # none lost
    # Each sent delivery reached its subscriber once (one Message-ID each). The incident may
    # notify more than once while the drill runs (an update, a reminder): count per delivery.
    sent = {row["address"]: row["n"] for row in await fetch(SENT_PER_SUBSCRIBER)}
    assert set(sent) == mailed
    assert all(len(ids_by_address[a]) == sent[a] for a in mailed)
    kinds = await fetch(
        "SELECT e.kind, count(*) AS n FROM deliveries d JOIN timeline_events e"
        " ON e.id = d.event_id WHERE d.channel = 'email' GROUP BY e.kind"
    )
    print(f"{len(sink.messages)} messages; deliveries by event: {[tuple(k) for k in kinds]}")


SENT_PER_SUBSCRIBER = (
    "SELECT s.address, count(*) AS n FROM deliveries d JOIN subscribers s"
    " ON d.recipient = 'subscriber:' || s.id"
    " WHERE d.channel = 'email' AND d.status = 'sent' GROUP BY s.address"
)


async def add_subscribers() -> None:
    """2,000 confirmed subscribers of every component, half in Japanese."""
    rows = [
        (f"user{i}@example.com", f"{i:032x}", "ja" if i % 2 else "en") for i in range(SUBSCRIBERS)
    ]
    await execute_many(
        "INSERT INTO subscribers (address, nonce, state, language, all_components, created_at,"
        " updated_at, confirmed_at, confirmed_generation)"
        " VALUES ($1, $2, 'active', $3, true, now(), now(), now(), 0)",
        rows,
    )


async def pending_deliveries() -> int:
    rows = await fetch("SELECT count(*) AS n FROM deliveries WHERE status <> 'sent'")
    return int(rows[0]["n"])
