"""Hypothesis properties of the whole engine under random results, time and responder acts:
timeline times never go backwards; at most one open incident per alert fingerprint; severity
never falls without a human event.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from monitor.domain import IncidentStatus, Severity
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from monitor.storage.tables import alerts, incidents, timeline_events
from tests.lifecycle_support import Lifecycle, lifecycle, lifecycle_config
from tests.postgres import POSTGRES_URL, require_postgres, reset_postgres
from tests.support import FAIL, OK, FakeClock

CHECKS = ("trading-engine-check", "order-entry-check", "btc-withdrawals-check", "charts-check")
step = st.one_of(
    st.tuples(st.just("result"), st.sampled_from(CHECKS), st.booleans()),
    st.tuples(st.just("wait"), st.sampled_from([30, 300, 1800, 7200])),
    st.tuples(st.just("ack"), st.booleans()),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=40))
def test_engine_invariants_hold_for_any_sequence_on_sqlite(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(steps, f"sqlite+aiosqlite:///{Path(folder) / 'p.db'}"))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=40))
def test_engine_invariants_hold_for_any_sequence_on_postgresql(
    steps: list[tuple[Any, ...]],
) -> None:
    require_postgres()
    asyncio.run(_run(steps, POSTGRES_URL, reset=True))


async def _run(steps: list[tuple[Any, ...]], url: str, *, reset: bool = False) -> None:
    if reset:
        await reset_postgres()
    database = Database(url)
    try:
        await upgrade(database)
        config = lifecycle_config(incidents={"resolve_after": {"moderate": "5m"}})
        h = await lifecycle(database, config, FakeClock())
        for action in steps:
            await _apply(h, action)
        await _check_invariants(database)
    finally:
        await database.close()


async def _apply(h: Lifecycle, action: tuple[Any, ...]) -> None:
    if action[0] == "result":
        await h.feed(action[1], OK if action[2] else FAIL)
    elif action[0] == "wait":
        await h.tick_after(action[1])
    else:
        open_ones = [i for i in await h.incidents() if i.status != IncidentStatus.RESOLVED]
        for incident in open_ones[:1]:
            act = h.responder.acknowledge if action[1] else h.responder.unacknowledge
            acked = incident.acknowledged_at is not None
            if acked != action[1]:
                await act(incident.id, h.clock.now(), actor="alice")


async def _check_invariants(database: Database) -> None:
    async with database.transaction() as s:
        events = list(
            (await s.execute(select(timeline_events).order_by(timeline_events.c.id))).all()
        )
        open_links = (
            await s.execute(
                select(alerts.c.fingerprint, incidents.c.id)
                .join(incidents, alerts.c.incident_id == incidents.c.id)
                .where(incidents.c.status != "resolved")
            )
        ).all()
    times = [e.at for e in events]
    assert times == sorted(times), "timeline times went backwards"
    per_fingerprint: dict[str, set[int]] = {}
    for fingerprint, incident_id in open_links:
        per_fingerprint.setdefault(fingerprint, set()).add(incident_id)
    assert all(len(ids) <= 1 for ids in per_fingerprint.values()), per_fingerprint
    for event in events:
        if event.kind == "severity_changed" and event.actor == "engine":
            before, after = Severity(event.data["from"]), Severity(event.data["to"])
            assert after.rank > before.rank, f"severity fell without a human: {event.reason}"
