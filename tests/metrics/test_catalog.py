"""The README's metrics table is the catalog: every exwatch metric of the app is in it, as coded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from monitor.app import Services
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.metrics.catalog import Entry, documented, in_code, role_registry
from tests.metrics.support import break_component, services_on
from tests.support import FakeClock

# The process collector's families (process_cpu_seconds_total, …) are one row.
PROCESS_ROW = "process_*"


@pytest.fixture
async def services(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Services]:
    """The app's services, with a firing alert so every custom family has samples."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}")
    await upgrade(database)
    built = services_on(database, clock)
    await built.engine.start()
    await break_component(built, clock, "trading-engine")
    await built.state_metrics.refresh()
    try:
        yield built
    finally:
        await database.close()


def everything(services: Services) -> dict[str, Entry]:
    """Every metric family of the three roles."""
    return in_code(services.metrics_registry) | in_code(role_registry(services.database))


def _exwatch(entries: dict[str, Entry]) -> dict[str, Entry]:
    return {name: e for name, e in entries.items() if name.startswith("exwatch_")}


async def test_every_metric_in_the_code_is_documented_as_coded(services: Services) -> None:
    code = _exwatch(everything(services))
    table = documented()
    assert len(code) >= 20, sorted(code)
    missing = sorted(set(code) - set(table))
    assert not missing, f"add these to the README's metrics table: {missing}"
    wrong = {name: (entry, table[name]) for name, entry in code.items() if entry != table[name]}
    assert not wrong, f"README rows differ from the code (code, README): {wrong}"


async def test_every_documented_metric_exists(services: Services) -> None:
    code = everything(services)
    rows = set(documented())
    absent = sorted(row for row in rows - {PROCESS_ROW} if row not in code)
    assert not absent, f"README rows with no metric in the code: {absent}"
    assert PROCESS_ROW in rows
    process = {name: e.type for name, e in code.items() if name.startswith("process_")}
    assert "process_cpu_seconds_total" in process, sorted(code)
    assert set(process.values()) <= set(documented()[PROCESS_ROW].type.split(", "))


def test_the_table_parses() -> None:
    table = documented()
    assert table["exwatch_component_state"] == Entry(
        "exwatch_component_state", "gauge", frozenset({"component", "state"})
    )
    assert table["exwatch_scheduler_lag_seconds"].labels == frozenset()
